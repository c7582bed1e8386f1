#include "llm/key_fingerprint_memo.h"

#include "common/sha256.h"

namespace llmtap::llm {

const std::string& KeyFingerprintMemo::sha256_hex_of(std::string_view key) {
  if (key.size() > kMaxKeyBytes) {
    uncached_ = sha256_hex(key);
    return uncached_;
  }
  for (const Entry& e : entries_) {
    if (!e.sha256_hex.empty() && e.key == key) {
      ++hits_;
      return e.sha256_hex;
    }
  }
  Entry& e = entries_[next_];
  next_ = (next_ + 1) % kEntries;
  e.key.assign(key);
  e.sha256_hex = sha256_hex(key);
  return e.sha256_hex;
}

}  // namespace llmtap::llm
