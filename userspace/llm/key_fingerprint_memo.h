#pragma once
// The SHA-256 of an API key, remembered for the last few keys: a host's calls use a handful
// of keys over and over, and hashing one costs more than comparing it. Keys are compared byte
// for byte; the keys are held only here, in this process's memory, as the request bodies are.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmtap::llm {

class KeyFingerprintMemo {
 public:
  static constexpr size_t kEntries = 4;
  static constexpr size_t kMaxKeyBytes = 512;  // longer keys are hashed every time

  // sha256_hex(key), or an equal earlier key's.
  const std::string& sha256_hex_of(std::string_view key);

  uint64_t hits() const { return hits_; }

 private:
  struct Entry {
    std::string key;
    std::string sha256_hex;
  };
  std::array<Entry, kEntries> entries_;
  size_t next_ = 0;
  std::string uncached_;
  uint64_t hits_ = 0;
};

}  // namespace llmtap::llm
