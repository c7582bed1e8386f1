#pragma once
// Incremental decoder of newline-delimited JSON (Ollama's /api/chat and /api/generate
// streams): one value per LF-terminated line, a CR before the LF stripped, blank lines
// skipped. The JSON itself is not validated here; the API extractors parse it. Bytes go in
// as they arrive, in pieces of any size; where they are split never changes the output.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "llm/stream/stream_event.h"
#include "llm/stream/stream_limits.h"

namespace llmtap::llm {

class NdjsonDecoder {
 public:
  explicit NdjsonDecoder(StreamLimits limits = {});

  // Decodes the next bytes of the body; appends the lines they complete to `out`.
  void feed(std::string_view bytes, std::vector<StreamEvent>& out);
  // End of body: emits a last line that lacks its LF. The decoder is then ready for a new
  // body; the counters keep counting.
  void finish(std::vector<StreamEvent>& out);

  uint64_t events() const { return events_; }
  uint64_t errors() const { return errors_; }  // lines over the size limit
  uint64_t dropped_bytes() const { return dropped_bytes_; }
  std::string_view error() const { return error_; }  // the last error, a string literal

 private:
  void append_to_line(std::string_view piece);
  void end_line(size_t terminator_bytes, std::vector<StreamEvent>& out);

  StreamLimits limits_;
  std::string line_;  // the line being assembled, at most max_event_bytes
  size_t line_bytes_ = 0;
  bool dropping_ = false;  // the line went over the limit
  uint64_t events_ = 0;
  uint64_t errors_ = 0;
  uint64_t dropped_bytes_ = 0;
  std::string_view error_;
};

}  // namespace llmtap::llm
