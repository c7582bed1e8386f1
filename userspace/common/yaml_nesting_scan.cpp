#include "common/yaml_nesting_scan.h"

namespace llmtap {

std::optional<TextPosition> find_excessive_nesting(std::string_view text,
                                                   const NestingLimits& limits) {
  size_t depth = 0;
  size_t line = 1;
  size_t line_start = 0;
  bool in_indent = true;  // still in the line's leading spaces and block indicators
  bool in_comment = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const size_t column = i - line_start + 1;
    if (c == '\n') {
      ++line;
      line_start = i + 1;
      in_indent = true;
      in_comment = false;
      continue;
    }
    if (in_comment) continue;
    if (in_indent) {
      const bool indicator = (c == '-' || c == '?' || c == ':') && i + 1 < text.size() &&
                             (text[i + 1] == ' ' || text[i + 1] == '\t');
      if (c == ' ' || c == '\t' || indicator) {
        if (column > limits.max_indent) return TextPosition{line, column};
        continue;
      }
      in_indent = false;
    }
    if (c == '#' && (i == line_start || text[i - 1] == ' ' || text[i - 1] == '\t')) {
      in_comment = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limits.max_flow_depth) return TextPosition{line, column};
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

}  // namespace llmtap
