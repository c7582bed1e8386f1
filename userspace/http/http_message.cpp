#include "http/http_message.h"

#include <cstdint>
#include <cstring>

namespace llmtap::http {
namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Eight bytes lowered at once: 0x20 added to each byte from 'A' to 'Z', no other byte changed.
// Each byte's low seven bits plus a constant below 0x80 cannot carry into the next byte.
uint64_t ascii_lower8(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  const uint64_t low7 = w & ~kHigh;
  const uint64_t at_least_a = low7 + (0x80 - 'A') * kOnes;   // high bit: >= 'A'
  const uint64_t above_z = low7 + (0x80 - 'Z' - 1) * kOnes;  // high bit: > 'Z'
  const uint64_t upper = at_least_a & ~above_z & ~w & kHigh;  // and the byte itself < 0x80
  return w | (upper >> 2);                                    // 0x80 >> 2 == 0x20
}

}  // namespace

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    uint64_t x;
    uint64_t y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y && ascii_lower8(x) != ascii_lower8(y)) return false;
  }
  for (; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> find_header(const std::vector<HttpHeader>& headers,
                                            std::string_view name) {
  for (const HttpHeader& h : headers) {
    if (ascii_iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

std::optional<std::string_view> header(const HttpMessage& message, std::string_view name) {
  return find_header(message.headers, name);
}

}  // namespace llmtap::http
