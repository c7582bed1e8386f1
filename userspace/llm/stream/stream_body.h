#pragma once
// Whole-body entry points: which framing a response's Content-Type names, and decoding a
// complete (or truncated) streamed body with the right decoder.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "llm/api_family.h"
#include "llm/stream/stream_event.h"

namespace llmtap::llm {

// What decoding a body found, beyond the events themselves.
struct StreamDecodeStats {
  uint64_t events = 0;           // events returned
  uint64_t events_over_cap = 0;  // decoded past kMaxStreamBodyEvents, not returned
  uint64_t errors = 0;           // malformed or oversize input (the decoder's count)
  uint64_t dropped_bytes = 0;
  bool operator==(const StreamDecodeStats&) const = default;
};

// A body with more events than this is cut (the rest are counted): bounds the memory of a
// whole-body decode whatever the body holds.
inline constexpr size_t kMaxStreamBodyEvents = 100000;

// text/event-stream -> kSse; application/x-ndjson, application/ndjson, application/jsonl,
// application/x-jsonlines -> kNdjson; application/vnd.amazon.eventstream -> kAwsEventStream;
// anything else (application/json included) -> kNone. Parameters and case are ignored.
StreamFraming framing_for_content_type(std::string_view content_type);

// As above, plus the one framing a Content-Type cannot name: Gemini streamGenerateContent
// without alt=sse answers application/json with a streamed JSON array (kJsonArray).
StreamFraming framing_for_response(ApiFamily family, std::string_view content_type);

// Runs the framing's decoder over the whole body and finishes it. kNone gives no events.
std::vector<StreamEvent> decode_stream_body(StreamFraming framing, std::string_view body,
                                            StreamDecodeStats* stats = nullptr);

}  // namespace llmtap::llm
