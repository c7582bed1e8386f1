#include "llm/catalog/auth_style.h"

#include <array>

namespace llmtap::llm {
namespace {

struct StyleName {
  AuthStyle style;
  std::string_view name;
};

constexpr std::array kStyleNames = {
    StyleName{AuthStyle::kBearer, "bearer"},  StyleName{AuthStyle::kXApiKey, "x-api-key"},
    StyleName{AuthStyle::kApiKey, "api-key"}, StyleName{AuthStyle::kXGoogApiKey, "x-goog-api-key"},
    StyleName{AuthStyle::kSigV4, "sigv4"},    StyleName{AuthStyle::kQueryKey, "query-key"},
};

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && http::ascii_iequals(text.substr(0, prefix.size()), prefix);
}

bool has_header(const http::HeaderFields& headers, std::string_view name) {
  return http::find_header(headers, name).has_value();
}

bool has_query_parameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.substr(0, pair.find('=')) == name) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

std::string_view query_parameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name && eq != std::string_view::npos) return pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace

std::string_view api_key_of(const http::HeaderFields& headers, std::string_view query) {
  for (const auto& h : headers) {
    if (http::ascii_iequals(h.name, "authorization") &&
        starts_with_ignoring_case(h.value, "Bearer ")) {
      return std::string_view(h.value).substr(7);
    }
  }
  for (const std::string_view name : {"x-api-key", "api-key", "x-goog-api-key"}) {
    if (const auto value = http::find_header(headers, name)) return *value;
  }
  return query_parameter(query, "key");
}

std::string_view to_string(AuthStyle style) {
  for (const auto& s : kStyleNames) {
    if (s.style == style) return s.name;
  }
  return "";
}

std::optional<AuthStyle> auth_style_from_string(std::string_view name) {
  for (const auto& s : kStyleNames) {
    if (s.name == name) return s.style;
  }
  return std::nullopt;
}

AuthStyle detect_auth_style(const http::HeaderFields& headers, std::string_view query) {
  std::string_view authorization;
  for (const auto& h : headers) {
    if (http::ascii_iequals(h.name, "authorization")) {
      authorization = h.value;
      break;
    }
  }
  if (starts_with_ignoring_case(authorization, "Bearer ")) return AuthStyle::kBearer;
  if (has_header(headers, "x-api-key")) return AuthStyle::kXApiKey;
  if (has_header(headers, "api-key")) return AuthStyle::kApiKey;
  if (has_header(headers, "x-goog-api-key")) return AuthStyle::kXGoogApiKey;
  if (starts_with_ignoring_case(authorization, "AWS4-HMAC-SHA256")) return AuthStyle::kSigV4;
  if (has_query_parameter(query, "key")) return AuthStyle::kQueryKey;
  return AuthStyle::kNone;
}

}  // namespace llmtap::llm
