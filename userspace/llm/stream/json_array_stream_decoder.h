#pragma once
// Incremental splitter of a streamed JSON array (Gemini streamGenerateContent without
// alt=sse: `[{...}\r\n,\r\n{...}]` arriving over time): each top-level element's JSON text is
// emitted as soon as its last byte arrives. Only the structure is followed (strings, escapes,
// brackets); the elements themselves are parsed by the API extractors. A body that is one
// object rather than an array (an error reply) is emitted as one element.
// Malformed structure puts the decoder in an error state (counted): the rest of the body is
// ignored. Where the bytes are split never changes the output.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "llm/stream/stream_event.h"
#include "llm/stream/stream_limits.h"

namespace llmtap::llm {

class JsonArrayStreamDecoder {
 public:
  // Nesting deeper than this (inside an element) is an error: the bracket stack stays small.
  static constexpr size_t kMaxDepth = 512;

  explicit JsonArrayStreamDecoder(StreamLimits limits = {});

  // Decodes the next bytes of the body; appends the elements they complete to `out`.
  void feed(std::string_view bytes, std::vector<StreamEvent>& out);
  // End of body. An element cut short is counted as an error (a missing final `]` is not).
  // The decoder is then ready for a new body; the counters keep counting.
  void finish(std::vector<StreamEvent>& out);

  bool failed() const { return phase_ == Phase::kError; }
  uint64_t events() const { return events_; }
  uint64_t errors() const { return errors_; }  // malformed bodies and oversize elements
  uint64_t dropped_bytes() const { return dropped_bytes_; }
  std::string_view error() const { return error_; }  // the last error, a string literal

 private:
  enum class Phase {
    kStart,    // before `[` (or a lone `{`)
    kBetween,  // between elements: whitespace and commas
    kElement,  // inside a top-level element
    kDone,     // after the closing `]`: only whitespace may follow
    kError,
  };
  enum class ElementKind { kContainer, kString, kScalar };

  enum class ScanStatus { kMore, kEnded, kBad };
  struct Scan {
    ScanStatus status;
    size_t pos;  // kEnded: one past the element's last byte; kBad: the offending byte
    std::string_view why = {};  // kBad
  };

  void step_outside_element(std::string_view in, size_t& i);
  void begin_element(ElementKind kind);
  Scan scan_element(std::string_view in, size_t i);
  Scan scan_container_or_string(std::string_view in, size_t i);
  void keep_element_bytes(std::string_view bytes);
  void end_element(std::vector<StreamEvent>& out);
  void fail(std::string_view why);

  StreamLimits limits_;
  Phase phase_ = Phase::kStart;
  bool in_array_ = false;    // false: the body is a single object
  bool need_comma_ = false;  // an element ended; the next one needs a comma first
  ElementKind kind_ = ElementKind::kContainer;
  std::string closers_;  // the brackets open in the element, as the bytes that close them
  bool in_string_ = false;
  bool escaped_ = false;
  std::string element_;  // the element's text while it is within the limit
  uint64_t element_bytes_ = 0;
  uint64_t events_ = 0;
  uint64_t errors_ = 0;
  uint64_t dropped_bytes_ = 0;
  std::string_view error_;
};

}  // namespace llmtap::llm
