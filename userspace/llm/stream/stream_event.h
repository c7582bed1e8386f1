#pragma once
// One event of a streamed LLM response, whatever framed it on the wire (SSE, NDJSON, a
// streamed JSON array, AWS event-stream). The API extractors read these.

#include <string>
#include <string_view>

namespace llmtap::llm {

struct StreamEvent {
  // SSE: the `event:` field (empty when absent). AWS event-stream: the `:event-type` header
  // (or `:exception-type` for exceptions, with is_exception set). NDJSON / JSON array: empty.
  std::string type;
  // SSE: the `data:` lines joined with '\n'. NDJSON: one line. JSON array: one element's JSON
  // text. AWS event-stream: the message payload bytes.
  std::string data;
  bool is_exception = false;  // AWS event-stream `:message-type: exception` / `error`
  bool operator==(const StreamEvent&) const = default;
};

enum class StreamFraming { kNone, kSse, kNdjson, kJsonArray, kAwsEventStream };

std::string_view to_string(StreamFraming framing);

}  // namespace llmtap::llm
