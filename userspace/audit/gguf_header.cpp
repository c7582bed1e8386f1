#include "audit/gguf_header.h"

#include <cstring>

namespace llmtap::audit {
namespace {

// GGUF value types (ggml's gguf.h): the scalar sizes, 8 string, 9 array.
constexpr uint32_t kTypeString = 8;
constexpr uint32_t kTypeArray = 9;
constexpr uint64_t kMaxKeyValues = 100000;
constexpr uint64_t kMaxStringBytes = 1 << 20;

size_t scalar_size(uint32_t type) {
  switch (type) {
    case 0:
    case 1:
    case 7:
      return 1;  // u8, i8, bool
    case 2:
    case 3:
      return 2;  // u16, i16
    case 4:
    case 5:
    case 6:
      return 4;  // u32, i32, f32
    case 10:
    case 11:
    case 12:
      return 8;  // u64, i64, f64
    default:
      return 0;
  }
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool read(T& out) {
    if (in_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(&out, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool string(std::string* out, uint32_t version) {
    uint64_t size = 0;
    if (version == 1) {  // v1 lengths were 32-bit
      uint32_t s = 0;
      if (!read(s)) return false;
      size = s;
    } else if (!read(size)) {
      return false;
    }
    if (size > kMaxStringBytes || in_.size() - pos_ < size) return false;
    if (out != nullptr) out->assign(in_.data() + pos_, static_cast<size_t>(size));
    pos_ += static_cast<size_t>(size);
    return true;
  }
  bool skip(uint64_t bytes) {
    if (in_.size() - pos_ < bytes) return false;
    pos_ += static_cast<size_t>(bytes);
    return true;
  }
  // Skips one value of `type`; arrays of arrays nest at most a few levels.
  bool skip_value(uint32_t type, uint32_t version, int depth = 0) {
    if (type == kTypeString) return string(nullptr, version);
    if (type == kTypeArray) {
      uint32_t element = 0;
      uint64_t count = 0;
      if (depth > 4 || !read(element) || !read(count)) return false;
      if (const size_t size = scalar_size(element); size != 0) {
        return count <= (in_.size() - pos_) / size && skip(count * size);
      }
      for (uint64_t i = 0; i < count; ++i) {
        if (!skip_value(element, version, depth + 1)) return false;
      }
      return true;
    }
    const size_t size = scalar_size(type);
    return size != 0 && skip(size);
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<GgufFacts> read_gguf_header(std::string_view header) {
  if (header.size() < 4 || header.substr(0, 4) != "GGUF") return std::nullopt;
  Reader r(header.substr(4));
  GgufFacts facts;
  if (!r.read(facts.version) || facts.version < 1 || facts.version > 3) return std::nullopt;
  uint64_t kv_count = 0;
  if (facts.version == 1) {
    uint32_t tensors = 0;
    uint32_t kvs = 0;
    if (!r.read(tensors) || !r.read(kvs)) return facts;
    facts.tensor_count = tensors;
    kv_count = kvs;
  } else if (!r.read(facts.tensor_count) || !r.read(kv_count)) {
    return facts;
  }
  for (uint64_t i = 0; i < kv_count && i < kMaxKeyValues; ++i) {
    std::string key;
    uint32_t type = 0;
    if (!r.string(&key, facts.version) || !r.read(type)) break;
    std::string* wanted = key == "general.name"           ? &facts.name
                          : key == "general.architecture" ? &facts.architecture
                                                          : nullptr;
    if (wanted != nullptr && type == kTypeString) {
      if (!r.string(wanted, facts.version)) break;
    } else if (!r.skip_value(type, facts.version)) {
      break;
    }
    if (!facts.name.empty() && !facts.architecture.empty()) break;
  }
  return facts;
}

}  // namespace llmtap::audit
