#pragma once
// Reads the few facts llmtap reports from LLM API bodies: model, stream flag, token usage,
// errors, finish reason, and (only when asked) prompt and completion text. One entry point
// per message kind; the API family (from the provider catalog) says how to read it.
//
// Nothing here throws or trusts its input: broken, truncated or non-UTF-8 bodies give
// `parsed = false` (or a salvaged read) with the reason in `parse_error`.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_message.h"
#include "llm/api_family.h"
#include "llm/llm_call.h"
#include "llm/stream/stream_event.h"

namespace llmtap::llm {

struct ExtractOptions {
  bool capture_text = false;     // fill prompt_text / completion_text
  size_t max_text_bytes = 4096;  // each text is cut to this, on a UTF-8 character boundary
};

struct RequestFacts {
  std::string model;  // body "model" (empty for Gemini/Bedrock: model is in the path)
  // Body "stream" when present. Ollama chat/generate stream unless told otherwise, so for
  // them an absent "stream" is reported as true: this is the one place that knows defaults.
  std::optional<bool> stream;
  bool include_usage = false;  // OpenAI stream_options.include_usage
  // Only with capture_text: the last user message's text (or prompt / input), cut.
  std::optional<std::string> prompt_text;
  bool parsed = false;  // the body was JSON of the expected shape (an object)
  // Why the body could not be read (parsed = false), or what had to be repaired before it
  // could (parsed = true): invalid UTF-8 replaced, body cut short and read up to its last
  // complete value.
  std::string parse_error;
};

struct ResponseFacts {
  std::string model;          // model named by the response
  TokenUsage tokens;          // total = input + output when not given but both known
  std::string error_type;     // provider error type/code from an error body or error event
  std::string error_message;  // cut to 512 bytes
  std::string finish_reason;  // finish_reason / stop_reason / finishReason / done_reason / ...
  std::string response_id;
  std::optional<std::string> completion_text;  // only with capture_text (streams: deltas joined)
  uint32_t stream_events = 0;  // events that were read (every event given, [DONE] included)
  // [DONE], message_stop, done:true, messageStop/metadata, the last Gemini chunk (the one
  // with a finishReason), response.completed/incomplete/failed, message-end.
  bool saw_stream_end = false;
  bool parsed = false;      // streams: at least one event was read
  std::string parse_error;  // as in RequestFacts; streams: the first event that failed
};

// `readable`: how many bytes from body.data() may be read (a std::string's capacity()). With
// simdjson's padding (64 bytes, http::kBodySlack) readable past the body, the body is parsed
// where it lies; otherwise it is copied once into a padded buffer.
RequestFacts extract_request(ApiFamily family, std::string_view body,
                             const ExtractOptions& options, size_t readable = 0);

// Whether extract_response reads the response's headers for `family` (Bedrock's token counts
// and error kind); for the others it reads only the status and the body.
bool response_facts_read_headers(ApiFamily family);

// A whole non-streamed response body (error bodies included, any status). Headers are given
// because Bedrock reports tokens in x-amzn-bedrock-input-token-count /
// x-amzn-bedrock-output-token-count (preferred over the body) and errors in x-amzn-errortype.
ResponseFacts extract_response(ApiFamily family, int status,
                               const http::HeaderFields& headers, std::string_view body,
                               const ExtractOptions& options);

// The events of a streamed response, already de-framed (SSE, NDJSON, JSON array, AWS
// event-stream).
ResponseFacts extract_stream(ApiFamily family, const std::vector<StreamEvent>& events,
                             const ExtractOptions& options);

}  // namespace llmtap::llm
