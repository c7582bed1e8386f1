#pragma once
// A catalog path pattern such as "/v1*/models/{model}:generateContent" or
// "/**/chat/completions", compiled once at load and matched per request head.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/catalog/request_target.h"

namespace llmtap::llm {

// The captures a match reports; other capture names only constrain the path.
struct PathCaptures {
  std::string_view model;       // raw (still percent-encoded)
  std::string_view deployment;  // raw
};

class PathPattern {
 public:
  static constexpr size_t kMaxPatternBytes = 1024;
  static constexpr size_t kMaxSegments = 32;
  static constexpr size_t kMaxAnySegments = 2;  // `**`s; bounds the backtracking

  static std::optional<PathPattern> compile(std::string_view text, std::string& error);

  // Captures are written only for a match.
  bool matches(const PathSegments& path, PathCaptures& captures) const;
  const std::string& text() const { return text_; }  // as written in the catalog

 private:
  enum class CaptureSlot : uint8_t { kNone, kModel, kDeployment };
  struct Part {
    enum class Kind : uint8_t { kLiteral, kCapture, kStar } kind;
    std::string literal;  // kLiteral only
    CaptureSlot slot = CaptureSlot::kNone;
  };
  struct Segment {
    bool any_segments = false;  // `**`
    std::vector<Part> parts;
  };

  static std::optional<Segment> compile_segment(std::string_view text, std::string& error);
  static bool match_segment(const Segment& segment, std::string_view text, PathCaptures& out);
  bool match_from(size_t pattern_index, const PathSegments& path, size_t path_index,
                  PathCaptures& out) const;

  std::string text_;
  std::vector<Segment> segments_;
  size_t min_path_segments_ = 0;  // segments that are not `**`
};

}  // namespace llmtap::llm
