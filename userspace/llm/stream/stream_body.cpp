#include "llm/stream/stream_body.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "common/wire_text.h"
#include "llm/stream/aws_event_stream_decoder.h"
#include "llm/stream/json_array_stream_decoder.h"
#include "llm/stream/ndjson_decoder.h"
#include "llm/stream/sse_decoder.h"

namespace llmtap::llm {
namespace {

// The body is fed in slices so that the cap applies before a huge body's events pile up.
constexpr size_t kSliceBytes = size_t{64} << 10;

// "Text/Event-Stream; charset=utf-8" -> "Text/Event-Stream" (compared without case: no copy).
std::string_view media_type(std::string_view content_type) {
  return common::trim(content_type.substr(0, content_type.find(';')));
}

bool is_type(std::string_view type, std::string_view lowercase) {
  return type.size() == lowercase.size() &&
         std::equal(type.begin(), type.end(), lowercase.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

StreamFraming framing_for_type(std::string_view type) {
  if (is_type(type, "text/event-stream")) return StreamFraming::kSse;
  if (is_type(type, "application/x-ndjson") || is_type(type, "application/ndjson") ||
      is_type(type, "application/jsonl") || is_type(type, "application/x-jsonlines")) {
    return StreamFraming::kNdjson;
  }
  if (is_type(type, "application/vnd.amazon.eventstream")) return StreamFraming::kAwsEventStream;
  return StreamFraming::kNone;
}

template <typename Decoder>
std::vector<StreamEvent> decode_with(std::string_view body, StreamDecodeStats* stats) {
  Decoder decoder;
  std::vector<StreamEvent> events;
  uint64_t over_cap = 0;
  const auto apply_cap = [&] {
    if (events.size() <= kMaxStreamBodyEvents) return;
    over_cap += events.size() - kMaxStreamBodyEvents;
    events.resize(kMaxStreamBodyEvents);
  };
  while (!body.empty()) {
    const size_t n = std::min(kSliceBytes, body.size());
    decoder.feed(body.substr(0, n), events);
    body.remove_prefix(n);
    apply_cap();
  }
  decoder.finish(events);
  apply_cap();
  if (stats != nullptr) {
    *stats = {.events = events.size(),
              .events_over_cap = over_cap,
              .errors = decoder.errors(),
              .dropped_bytes = decoder.dropped_bytes()};
  }
  return events;
}

}  // namespace

StreamFraming framing_for_content_type(std::string_view content_type) {
  return framing_for_type(media_type(content_type));
}

StreamFraming framing_for_response(ApiFamily family, std::string_view content_type) {
  const std::string_view type = media_type(content_type);
  const StreamFraming framing = framing_for_type(type);
  if (framing != StreamFraming::kNone) return framing;
  if (family == ApiFamily::kGeminiStreamGenerateContent &&
      (is_type(type, "application/json") || type.empty())) {
    return StreamFraming::kJsonArray;
  }
  return StreamFraming::kNone;
}

std::vector<StreamEvent> decode_stream_body(StreamFraming framing, std::string_view body,
                                            StreamDecodeStats* stats) {
  switch (framing) {
    case StreamFraming::kSse:
      return decode_with<SseDecoder>(body, stats);
    case StreamFraming::kNdjson:
      return decode_with<NdjsonDecoder>(body, stats);
    case StreamFraming::kJsonArray:
      return decode_with<JsonArrayStreamDecoder>(body, stats);
    case StreamFraming::kAwsEventStream:
      return decode_with<AwsEventStreamDecoder>(body, stats);
    case StreamFraming::kNone:
      break;
  }
  if (stats != nullptr) *stats = {};
  return {};
}

}  // namespace llmtap::llm
