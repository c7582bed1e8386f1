#include "llm/catalog/request_target.h"

namespace llmtap::llm {

TargetParts split_target(std::string_view target) {
  TargetParts parts;
  if (const size_t fragment = target.find('#'); fragment != std::string_view::npos) {
    target = target.substr(0, fragment);
  }
  if (const size_t question = target.find('?'); question != std::string_view::npos) {
    parts.query = target.substr(question + 1);
    target = target.substr(0, question);
  }
  // Absolute form (proxies): scheme "://" authority path.
  if (const size_t scheme_end = target.find("://");
      scheme_end != std::string_view::npos && target.find('/') > scheme_end) {
    const std::string_view rest = target.substr(scheme_end + 3);
    const size_t slash = rest.find('/');
    parts.authority = rest.substr(0, slash);
    target = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  }
  parts.path = target;
  return parts;
}

PathSegments::PathSegments(std::string_view path) {
  while (!path.empty()) {
    const size_t slash = path.find('/');
    const std::string_view segment = path.substr(0, slash);
    if (!segment.empty()) {
      if (count_ == kMaxSegments) {
        overflowed_ = true;
        return;
      }
      segments_[count_++] = segment;
    }
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
}

}  // namespace llmtap::llm
