#pragma once
// Builds GGUF headers for tests (version 3 layout unless asked otherwise).

#include <cstdint>
#include <cstring>
#include <string>

namespace llmtap::audit::testing {

class GgufWriter {
 public:
  explicit GgufWriter(uint32_t version = 3, uint64_t tensors = 291) : version_(version) {
    out_ = "GGUF";
    put(version);
    if (version == 1) {
      put(static_cast<uint32_t>(tensors));
      kv_at_ = out_.size();
      put(uint32_t{0});
    } else {
      put(tensors);
      kv_at_ = out_.size();
      put(uint64_t{0});
    }
  }
  GgufWriter& string_kv(const std::string& key, const std::string& value) {
    str(key);
    put(uint32_t{8});
    str(value);
    return count();
  }
  GgufWriter& u32_kv(const std::string& key, uint32_t value) {
    str(key);
    put(uint32_t{4});
    put(value);
    return count();
  }
  GgufWriter& string_array_kv(const std::string& key, int n) {
    str(key);
    put(uint32_t{9});
    put(uint32_t{8});
    put(static_cast<uint64_t>(n));
    for (int i = 0; i < n; ++i) str("tok" + std::to_string(i));
    return count();
  }
  const std::string& bytes() const { return out_; }

 private:
  template <typename T>
  void put(T v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void str(const std::string& s) {
    if (version_ == 1) {
      put(static_cast<uint32_t>(s.size()));
    } else {
      put(static_cast<uint64_t>(s.size()));
    }
    out_ += s;
  }
  GgufWriter& count() {
    ++kvs_;
    if (version_ == 1) {
      const auto n = static_cast<uint32_t>(kvs_);
      std::memcpy(out_.data() + kv_at_, &n, sizeof n);
    } else {
      std::memcpy(out_.data() + kv_at_, &kvs_, sizeof kvs_);
    }
    return *this;
  }
  uint32_t version_;
  std::string out_;
  size_t kv_at_ = 0;
  uint64_t kvs_ = 0;
};

}  // namespace llmtap::audit::testing
