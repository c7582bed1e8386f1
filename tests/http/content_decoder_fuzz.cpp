// libFuzzer target for content decoding. The first byte picks the Content-Encoding value,
// the output limit and whether the input counts as cut; the rest is the body. The output
// must never pass the limit.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/content_decoder.h"

namespace {

constexpr std::array<std::string_view, 12> kEncodings = {
    "gzip",     "deflate",         "br",        "zstd",   "x-gzip",
    "identity", "gzip, br",        "zstd,gzip", "br, br", "deflate, identity, zstd",
    "compress", "gzip, gzip, gzip"};
constexpr std::array<size_t, 4> kLimits = {0, 1, 1000, 1 << 20};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string_view encoding = kEncodings[(control & 0x0f) % kEncodings.size()];
  const size_t limit = kLimits[(control >> 4) & 0x3];
  const bool cut = (control & 0x40) != 0;
  const llmtap::http::DecodedContent decoded =
      llmtap::http::decode_content(body, encoding, limit, cut);
  if (decoded.bytes.size() > limit) std::abort();
  return 0;
}
