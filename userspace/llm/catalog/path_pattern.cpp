#include "llm/catalog/path_pattern.h"

namespace llmtap::llm {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Characters that cannot appear in a path as sent (the query and fragment are cut off first).
bool is_forbidden_literal(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f || c == '?' || c == '#';
}

}  // namespace

std::optional<PathPattern::Segment> PathPattern::compile_segment(std::string_view text,
                                                                 std::string& error) {
  Segment segment;
  if (text == "**") {
    segment.any_segments = true;
    return segment;
  }
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    Part part{Part::Kind::kLiteral, {}, CaptureSlot::kNone};
    if (c == '{') {
      const size_t close = text.find('}', i);
      if (close == std::string_view::npos) {
        error = "'{' without '}'";
        return std::nullopt;
      }
      const std::string_view name = text.substr(i + 1, close - i - 1);
      if (name.empty()) {
        error = "empty capture name '{}'";
        return std::nullopt;
      }
      for (char n : name) {
        if (!is_name_char(n)) {
          error = "capture name '" + std::string(name) + "' is not [A-Za-z0-9_]+";
          return std::nullopt;
        }
      }
      part.kind = Part::Kind::kCapture;
      if (name == "model") part.slot = CaptureSlot::kModel;
      if (name == "deployment") part.slot = CaptureSlot::kDeployment;
      i = close + 1;
    } else if (c == '*') {
      if (i + 1 < text.size() && text[i + 1] == '*') {
        error = "'**' must be a whole segment";
        return std::nullopt;
      }
      part.kind = Part::Kind::kStar;
      ++i;
    } else if (c == '}') {
      error = "'}' without '{'";
      return std::nullopt;
    } else if (is_forbidden_literal(c)) {
      error = "character not allowed in a path pattern (space, control, '?' or '#')";
      return std::nullopt;
    } else {
      const size_t end = text.find_first_of("{}*", i);
      const std::string_view literal = text.substr(i, end - i);
      for (char l : literal) {
        if (is_forbidden_literal(l)) {
          error = "character not allowed in a path pattern (space, control, '?' or '#')";
          return std::nullopt;
        }
      }
      part.literal = std::string(literal);
      i = end == std::string_view::npos ? text.size() : end;
    }
    if (part.kind != Part::Kind::kLiteral && !segment.parts.empty() &&
        segment.parts.back().kind != Part::Kind::kLiteral) {
      error = "two wildcards next to each other in a segment";
      return std::nullopt;
    }
    segment.parts.push_back(std::move(part));
  }
  return segment;
}

std::optional<PathPattern> PathPattern::compile(std::string_view text, std::string& error) {
  if (text.size() > kMaxPatternBytes) {
    error = "path pattern longer than " + std::to_string(kMaxPatternBytes) + " bytes";
    return std::nullopt;
  }
  if (text.empty() || text.front() != '/') {
    error = "path pattern must start with '/'";
    return std::nullopt;
  }
  PathPattern pattern;
  pattern.text_ = std::string(text);
  size_t any_segments = 0;
  while (!text.empty()) {
    const size_t slash = text.find('/');
    const std::string_view piece = text.substr(0, slash);
    text.remove_prefix(slash == std::string_view::npos ? text.size() : slash + 1);
    if (piece.empty()) continue;
    std::string segment_error;
    std::optional<Segment> segment = compile_segment(piece, segment_error);
    if (!segment) {
      error = "path segment '" + std::string(piece) + "': " + segment_error;
      return std::nullopt;
    }
    if (segment->any_segments) {
      if (++any_segments > kMaxAnySegments) {
        error = "path pattern has more than " + std::to_string(kMaxAnySegments) + " '**'";
        return std::nullopt;
      }
      if (!pattern.segments_.empty() && pattern.segments_.back().any_segments) {
        error = "'**/**' is the same as '**'";
        return std::nullopt;
      }
    } else {
      ++pattern.min_path_segments_;
    }
    if (pattern.segments_.size() == kMaxSegments) {
      error = "path pattern has more than " + std::to_string(kMaxSegments) + " segments";
      return std::nullopt;
    }
    pattern.segments_.push_back(std::move(*segment));
  }
  return pattern;
}

bool PathPattern::match_segment(const Segment& segment, std::string_view text, PathCaptures& out) {
  // Linear glob matching: each literal after a wildcard is taken at its left-most place, the
  // last one at the end of the segment. Captures need one character, `*` none.
  auto capture = [&out](const Part& part, std::string_view value) {
    if (part.slot == CaptureSlot::kModel) out.model = value;
    if (part.slot == CaptureSlot::kDeployment) out.deployment = value;
  };
  size_t pos = 0;
  const Part* pending = nullptr;
  for (size_t i = 0; i < segment.parts.size(); ++i) {
    const Part& part = segment.parts[i];
    if (part.kind != Part::Kind::kLiteral) {
      pending = &part;
      continue;
    }
    const std::string& literal = part.literal;
    if (pending == nullptr) {
      if (text.substr(pos, literal.size()) != literal) return false;
      pos += literal.size();
      continue;
    }
    const size_t min = pending->kind == Part::Kind::kCapture ? 1 : 0;
    size_t found = std::string_view::npos;
    if (i + 1 == segment.parts.size()) {
      if (text.size() < pos + min + literal.size()) return false;
      found = text.size() - literal.size();
      if (text.substr(found) != literal) return false;
    } else {
      found = text.find(literal, pos + min);
      if (found == std::string_view::npos) return false;
    }
    capture(*pending, text.substr(pos, found - pos));
    pos = found + literal.size();
    pending = nullptr;
  }
  if (pending != nullptr) {
    const size_t min = pending->kind == Part::Kind::kCapture ? 1 : 0;
    if (text.size() < pos + min) return false;
    capture(*pending, text.substr(pos));
    return true;
  }
  return pos == text.size();
}

bool PathPattern::match_from(size_t pattern_index, const PathSegments& path, size_t path_index,
                             PathCaptures& out) const {
  for (; pattern_index < segments_.size(); ++pattern_index, ++path_index) {
    const Segment& segment = segments_[pattern_index];
    if (segment.any_segments) {
      for (size_t next = path_index; next <= path.size(); ++next) {
        if (match_from(pattern_index + 1, path, next, out)) return true;
      }
      return false;
    }
    if (path_index >= path.size() || !match_segment(segment, path[path_index], out)) return false;
  }
  return path_index == path.size();
}

bool PathPattern::matches(const PathSegments& path, PathCaptures& captures) const {
  if (path.overflowed() || path.size() < min_path_segments_ || segments_.empty()) {
    return segments_.empty() && path.size() == 0 && !path.overflowed();
  }
  // Most patterns end in a literal segment ("completions"): check it first, it rejects most.
  PathCaptures found;
  const Segment& last = segments_.back();
  if (!last.any_segments && !match_segment(last, path[path.size() - 1], found)) return false;
  if (!match_from(0, path, 0, found)) return false;
  captures = found;
  return true;
}

}  // namespace llmtap::llm
