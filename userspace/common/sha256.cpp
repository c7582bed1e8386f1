#include "common/sha256.h"

// The one-shot SHA256_* functions: OpenSSL 3 deprecates them for EVP, but EVP allocates and
// frees a provider context on every digest (and looks the algorithm up when not fetched),
// which costs more than hashing an API key; these work on the stack.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace llmtap {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(digest, &ctx);
  OPENSSL_cleanse(&ctx, sizeof(ctx));  // it held the hashed secret's state
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * SHA256_DIGEST_LENGTH, '\0');
  for (size_t i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace llmtap
