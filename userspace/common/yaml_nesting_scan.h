#pragma once
// A cheap scan that finds catalog text nested too deeply before yaml-cpp sees it: yaml-cpp
// parses and builds nodes recursively and can run out of stack on hostile input.

#include <cstddef>
#include <optional>
#include <string_view>

namespace llmtap {

struct NestingLimits {
  size_t max_flow_depth = 32;  // open '[' and '{' at once
  size_t max_indent = 128;     // columns of indentation, block indicators ("- ", "? ") included
};

struct TextPosition {
  size_t line = 1;  // 1-based
  size_t column = 1;
};

// The first place where `text` goes past a limit, if any. Brackets in comments are ignored;
// brackets in quoted strings count (a false alarm only for absurd scalars).
std::optional<TextPosition> find_excessive_nesting(std::string_view text,
                                                   const NestingLimits& limits);

}  // namespace llmtap
