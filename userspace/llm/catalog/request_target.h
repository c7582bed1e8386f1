#pragma once
// A request target split for matching: path (no query, no fragment, no scheme or authority)
// and its non-empty segments, kept as views in a fixed array so matching does not allocate.

#include <array>
#include <cstddef>
#include <string_view>

namespace llmtap::llm {

struct TargetParts {
  std::string_view authority;  // only for absolute-form targets ("https://host/path")
  std::string_view path;
  std::string_view query;  // without the '?'
};

TargetParts split_target(std::string_view target);

class PathSegments {
 public:
  static constexpr size_t kMaxSegments = 64;  // longer paths are no LLM API we know

  // Empty segments ("//", a trailing "/") are skipped: SDKs join base URLs sloppily.
  explicit PathSegments(std::string_view path);

  bool overflowed() const { return overflowed_; }
  size_t size() const { return count_; }
  std::string_view operator[](size_t i) const { return segments_[i]; }

 private:
  std::array<std::string_view, kMaxSegments> segments_;  // only the first count_ are set
  size_t count_ = 0;
  bool overflowed_ = false;
};

}  // namespace llmtap::llm
