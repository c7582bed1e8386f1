#pragma once
// Limits shared by the stream decoders: a peer can send events of any size, and memory must
// stay bounded whatever it sends.

#include <cstddef>

namespace llmtap::llm {

struct StreamLimits {
  // One event's bytes on the wire (an SSE event's fields, an NDJSON line, a JSON array
  // element, an AWS event-stream message). Larger events are dropped and counted.
  size_t max_event_bytes = 4 << 20;
};

}  // namespace llmtap::llm
