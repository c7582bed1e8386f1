#pragma once
// Incremental decoder of server-sent events (WHATWG HTML, "event stream interpretation"): the
// framing of OpenAI, Anthropic, Cohere and Gemini (alt=sse) streams. Bytes go in as they
// arrive, in pieces of any size; where they are split never changes the output. Pure code:
// no I/O, no exceptions. SSE has no malformed input; only oversize events are errors.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/stream/stream_event.h"
#include "llm/stream/stream_limits.h"

namespace llmtap::llm {

class SseDecoder {
 public:
  explicit SseDecoder(StreamLimits limits = {});

  // Decodes the next bytes of the body; appends the events they complete to `out`.
  void feed(std::string_view bytes, std::vector<StreamEvent>& out);
  // End of body: dispatches a last event that lacks its blank line (the spec would discard
  // it; servers that close right after the last `data:` line are common). The decoder is
  // then ready for a new body; the counters keep counting.
  void finish(std::vector<StreamEvent>& out);

  // The last `id:` field seen (without NUL), and the last valid `retry:` value.
  std::string_view last_event_id() const { return last_event_id_; }
  std::optional<uint64_t> retry_ms() const { return retry_ms_; }

  uint64_t events() const { return events_; }
  uint64_t errors() const { return errors_; }  // events over the size limit
  uint64_t dropped_bytes() const { return dropped_bytes_; }
  std::string_view error() const { return error_; }  // the last error, a string literal

 private:
  void decode(std::string_view in, std::vector<StreamEvent>& out);
  void append_to_line(std::string_view piece);
  void end_line(std::vector<StreamEvent>& out);
  void process_field(std::string_view line);
  void end_event(std::vector<StreamEvent>& out);

  StreamLimits limits_;
  bool bom_checked_ = false;
  std::string bom_held_;  // the first bytes while they could still be a UTF-8 BOM
  bool skip_lf_ = false;  // the last line ended in CR: an LF right after belongs to it
  std::string line_;      // the line being assembled (not kept for comments or when dropping)
  size_t line_bytes_ = 0;
  bool comment_line_ = false;
  std::string type_;       // the `event:` field of the event being assembled
  std::string data_;       // its `data:` lines, each followed by '\n' (the spec's data buffer)
  bool dropping_ = false;  // the event being assembled went over the limit
  uint64_t event_wire_bytes_ = 0;  // bytes since the last blank line
  std::string last_event_id_;
  std::optional<uint64_t> retry_ms_;
  uint64_t events_ = 0;
  uint64_t errors_ = 0;
  uint64_t dropped_bytes_ = 0;
  std::string_view error_;
};

}  // namespace llmtap::llm
