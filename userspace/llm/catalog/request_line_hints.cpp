#include "llm/catalog/request_line_hints.h"

#include <algorithm>
#include <string_view>

namespace llmtap::llm {
namespace {

constexpr size_t kMinSuffix = 6;
constexpr size_t kMinPrefix = 4;

RequestPathHint hint_for(std::string_view path) {
  // A trailing '/' is no part of what a path must start or end with (the kernel also drops
  // one from the request's path).
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t first = path.find_first_of("{*");
  if (first == std::string_view::npos) {
    return {std::string(path.substr(0, kMaxRequestPathHintBytes)), false};
  }
  const size_t last = path.find_last_of("}*");
  const std::string_view tail = path.substr(last + 1);
  if (tail.size() >= kMinSuffix) {
    // The end of a suffix is still a suffix: a superset.
    return {std::string(tail.substr(tail.size() - std::min(tail.size(), kMaxRequestPathHintBytes))),
            true};
  }
  const std::string_view head = path.substr(0, first);
  if (head.size() >= kMinPrefix) {
    return {std::string(head.substr(0, kMaxRequestPathHintBytes)), false};
  }
  return {"/", false};
}

}  // namespace

std::vector<RequestPathHint> request_path_hints(const ProviderCatalog& catalog) {
  std::vector<RequestPathHint> hints;
  for (const CatalogEntry& entry : catalog.entries()) {
    for (const CatalogRoute& route : entry.routes) {
      RequestPathHint hint = hint_for(route.path.text());
      if (std::find(hints.begin(), hints.end(), hint) == hints.end()) hints.push_back(hint);
    }
  }
  const bool everything = std::any_of(hints.begin(), hints.end(), [](const RequestPathHint& h) {
    return !h.suffix && h.text == "/";
  });
  if (everything || hints.size() > kMaxRequestPathHints) return {{"/", false}};
  return hints;
}

bool request_line_may_be_llm(const std::vector<RequestPathHint>& hints, std::string_view bytes) {
  bytes = bytes.substr(0, 256);
  if (bytes.size() < 8) return false;
  size_t method = 0;
  while (method < 8 && bytes[method] != ' ') {
    if (bytes[method] < 'A' || bytes[method] > 'Z') return false;
    ++method;
  }
  if (method < 3 || method >= 8 || bytes[method + 1] != '/') return false;
  std::string_view path = bytes.substr(method + 1);
  path = path.substr(0, path.find_first_of(std::string_view(" ?#\r\0", 5)));
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return std::any_of(hints.begin(), hints.end(), [&](const RequestPathHint& h) {
    return h.suffix ? path.ends_with(h.text) : path.starts_with(h.text);
  });
}

}  // namespace llmtap::llm
