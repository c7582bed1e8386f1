#pragma once
// Small readers the wire-format parsers share: big-endian integers and trimming.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace llmtap::common {

// The big-endian 32-bit integer at bytes[at..at+4); the caller checks the size.
inline uint32_t read_u32_be(std::string_view bytes, size_t at = 0) {
  const auto byte = [&](size_t i) { return uint32_t{static_cast<uint8_t>(bytes[at + i])}; };
  return byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
}

// `text` without leading and trailing characters from `blanks` (HTTP's optional whitespace
// by default).
inline std::string_view trim(std::string_view text, std::string_view blanks = " \t") {
  const size_t first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

// The value of one hex digit, or -1.
inline int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace llmtap::common
