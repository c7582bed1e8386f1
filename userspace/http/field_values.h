#pragma once
// Field value syntax both HTTP parsers read (RFC 9110 5.6): optional whitespace, lists,
// decimal numbers, and Content-Length with every field and element agreeing.

#include <cstdint>
#include <optional>
#include <string_view>

#include "http/http_message.h"

namespace llmtap::http {

std::string_view trim_ows(std::string_view s);

// 1*DIGIT without overflow.
std::optional<uint64_t> parse_decimal(std::string_view s);

// Calls `fn` on each trimmed element of a comma-separated list; stops when it returns false.
template <typename Fn>
bool for_each_list_element(std::string_view list, Fn&& fn) {
  while (true) {
    const size_t comma = list.find(',');
    if (!fn(trim_ows(list.substr(0, comma)))) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

struct ContentLength {
  bool present = false;
  bool valid = true;
  uint64_t value = 0;
};

// Every Content-Length field and list element must agree (RFC 9110 8.6); anything else is
// a smuggling vector, so it is invalid rather than a guess.
ContentLength content_length(const HeaderFields& headers);

}  // namespace llmtap::http
