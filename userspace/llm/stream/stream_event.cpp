#include "llm/stream/stream_event.h"

namespace llmtap::llm {

std::string_view to_string(StreamFraming framing) {
  switch (framing) {
    case StreamFraming::kNone: return "none";
    case StreamFraming::kSse: return "sse";
    case StreamFraming::kNdjson: return "ndjson";
    case StreamFraming::kJsonArray: return "json_array";
    case StreamFraming::kAwsEventStream: return "aws_event_stream";
  }
  return "none";
}

}  // namespace llmtap::llm
