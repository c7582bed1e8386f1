#include "http/field_values.h"

#include <limits>

namespace llmtap::http {

std::string_view trim_ows(std::string_view s) {
  auto is_ows = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> parse_decimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

ContentLength content_length(const HeaderFields& headers) {
  ContentLength result;
  for (const HttpHeader& h : headers) {
    if (!ascii_iequals(h.name, "content-length")) continue;
    result.valid = for_each_list_element(h.value, [&](std::string_view element) {
      const std::optional<uint64_t> n = parse_decimal(element);
      if (!n || (result.present && *n != result.value)) return false;
      result.present = true;
      result.value = *n;
      return true;
    });
    if (!result.valid) return result;
  }
  return result;
}

}  // namespace llmtap::http
