#include "llm/stream/json_array_stream_decoder.h"

#include <cstring>

namespace llmtap::llm {
namespace {

bool is_json_whitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Bytes of a top-level number, true, false or null; the first other byte ends it.
bool is_scalar_byte(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '+' || c == '.';
}

// The next '"' or '\\' from `from` (or in.size()); memchr twice beats find_first_of.
size_t find_quote_or_backslash(std::string_view in, size_t from) {
  const char* begin = in.data() + from;
  const size_t n = in.size() - from;
  const void* quote = std::memchr(begin, '"', n);
  const size_t quote_at = quote == nullptr ? n : static_cast<const char*>(quote) - begin;
  const void* backslash = std::memchr(begin, '\\', quote_at);
  return from + (backslash == nullptr ? quote_at : static_cast<const char*>(backslash) - begin);
}

}  // namespace

JsonArrayStreamDecoder::JsonArrayStreamDecoder(StreamLimits limits) : limits_(limits) {}

void JsonArrayStreamDecoder::feed(std::string_view in, std::vector<StreamEvent>& out) {
  size_t element_start = 0;  // where the element's bytes begin in `in`
  size_t i = 0;
  while (i < in.size()) {
    if (phase_ == Phase::kError) {
      dropped_bytes_ += in.size() - i;
      return;
    }
    if (phase_ != Phase::kElement) {
      step_outside_element(in, i);
      if (phase_ == Phase::kElement) element_start = i;
      continue;
    }
    const Scan scan = scan_element(in, i);
    switch (scan.status) {
      case ScanStatus::kMore:
        i = in.size();
        break;
      case ScanStatus::kEnded:
        keep_element_bytes(in.substr(element_start, scan.pos - element_start));
        end_element(out);
        i = scan.pos;
        break;
      case ScanStatus::kBad:
        dropped_bytes_ += element_bytes_ + (scan.pos - element_start);
        fail(scan.why);
        i = scan.pos;  // counted from here on by the error state
        break;
    }
  }
  if (phase_ == Phase::kElement) keep_element_bytes(in.substr(element_start));
}

void JsonArrayStreamDecoder::finish(std::vector<StreamEvent>&) {
  if (phase_ == Phase::kElement) {
    ++errors_;
    error_ = "body ends inside an element";
    dropped_bytes_ += element_bytes_;
  }
  phase_ = Phase::kStart;
  in_array_ = false;
  need_comma_ = false;
  closers_.clear();
  in_string_ = false;
  escaped_ = false;
  element_.clear();
  element_bytes_ = 0;
}

// Consumes in[i] unless it starts an element (the element's scan takes it) or is malformed.
void JsonArrayStreamDecoder::step_outside_element(std::string_view in, size_t& i) {
  const char c = in[i];
  if (is_json_whitespace(c)) {
    ++i;
    return;
  }
  switch (phase_) {
    case Phase::kStart:
      if (c == '[') {
        in_array_ = true;
        phase_ = Phase::kBetween;
        ++i;
      } else if (c == '{') {
        in_array_ = false;
        begin_element(ElementKind::kContainer);
      } else {
        fail("body is not a JSON array");
      }
      return;
    case Phase::kBetween:
      if (c == ',') {
        need_comma_ = false;  // extra commas are tolerated
        ++i;
      } else if (c == ']') {
        phase_ = Phase::kDone;
        ++i;
      } else if (need_comma_) {
        fail("missing comma between elements");
      } else if (c == '{' || c == '[') {
        begin_element(ElementKind::kContainer);
      } else if (c == '"') {
        begin_element(ElementKind::kString);
      } else if (is_scalar_byte(c)) {
        begin_element(ElementKind::kScalar);
      } else {
        fail("unexpected byte between elements");
      }
      return;
    case Phase::kDone:
      fail("bytes after the array");
      return;
    case Phase::kElement:
    case Phase::kError:
      return;  // not reached: feed() handles these
  }
}

void JsonArrayStreamDecoder::begin_element(ElementKind kind) {
  phase_ = Phase::kElement;
  kind_ = kind;
  closers_.clear();
  in_string_ = false;
  escaped_ = false;
  element_.clear();
  element_bytes_ = 0;
}

JsonArrayStreamDecoder::Scan JsonArrayStreamDecoder::scan_element(std::string_view in, size_t i) {
  if (kind_ != ElementKind::kScalar) return scan_container_or_string(in, i);
  for (; i < in.size(); ++i) {
    if (!is_scalar_byte(in[i])) return {ScanStatus::kEnded, i};  // the delimiter is not ours
  }
  return {ScanStatus::kMore, i};
}

// Follows strings, escapes and brackets; the element ends when its first bracket (or, for a
// string element, its opening quote) is closed.
JsonArrayStreamDecoder::Scan JsonArrayStreamDecoder::scan_container_or_string(std::string_view in,
                                                                              size_t i) {
  while (i < in.size()) {
    const char c = in[i];
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      } else {
        // Skip ahead to the next byte that matters inside a string.
        i = find_quote_or_backslash(in, i);
        continue;
      }
    } else if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      if (closers_.size() == kMaxDepth) {
        return {ScanStatus::kBad, i, "nesting too deep"};
      }
      closers_.push_back(c == '{' ? '}' : ']');
    } else if (c == '}' || c == ']') {
      if (closers_.empty() || closers_.back() != c) {
        return {ScanStatus::kBad, i, "mismatched bracket"};
      }
      closers_.pop_back();
    }
    ++i;
    if (!in_string_ && closers_.empty()) return {ScanStatus::kEnded, i};
  }
  return {ScanStatus::kMore, i};
}

void JsonArrayStreamDecoder::keep_element_bytes(std::string_view bytes) {
  element_bytes_ += bytes.size();
  if (element_bytes_ <= limits_.max_event_bytes) {
    element_.append(bytes);
  } else {
    element_.clear();  // counted, not kept
  }
}

void JsonArrayStreamDecoder::end_element(std::vector<StreamEvent>& out) {
  if (element_bytes_ > limits_.max_event_bytes) {
    ++errors_;
    error_ = "element over the size limit";
    dropped_bytes_ += element_bytes_;
  } else {
    out.push_back({.type = {}, .data = std::move(element_)});
    ++events_;
  }
  element_.clear();
  element_bytes_ = 0;
  phase_ = in_array_ ? Phase::kBetween : Phase::kDone;
  need_comma_ = true;
}

void JsonArrayStreamDecoder::fail(std::string_view why) {
  ++errors_;
  error_ = why;
  phase_ = Phase::kError;
  element_.clear();
  element_bytes_ = 0;
  closers_.clear();
}

}  // namespace llmtap::llm
