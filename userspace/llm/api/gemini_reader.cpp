// Gemini generateContent / streamGenerateContent / embedContent (Google AI and Vertex AI).
#include "llm/api/response_readers.h"

namespace llmtap::llm {
namespace {

TokenUsage gemini_usage(JsonElement usage) {
  TokenUsage t;
  t.input = count_at(usage, "/promptTokenCount");
  t.output = count_at(usage, "/candidatesTokenCount");
  t.total = count_at(usage, "/totalTokenCount");
  t.cached = count_at(usage, "/cachedContentTokenCount");
  t.reasoning = count_at(usage, "/thoughtsTokenCount");
  return t;
}

}  // namespace

void read_gemini(JsonElement root, bool streamed, ResponseBuilder& out) {
  if (const auto error = element_at(root, "/error"); error && is_object(*error)) {
    // "status" is the stable name ("RESOURCE_EXHAUSTED"); "code" repeats the HTTP status.
    std::string type(string_at(*error, "/status"));
    if (type.empty()) type = code_at(*error, "/code");
    out.set_error(type, string_at(*error, "/message"));
    return;
  }
  out.set_model(string_at(root, "/modelVersion"));
  out.set_response_id(string_at(root, "/responseId"));
  if (const auto usage = element_at(root, "/usageMetadata"); usage && is_object(*usage)) {
    out.add_tokens(gemini_usage(*usage));
  }
  // A prompt blocked before generation has no candidates, only the block reason.
  out.set_finish_reason(string_at(root, "/promptFeedback/blockReason"));
  const auto candidate = element_at(root, "/candidates/0");
  if (!candidate) return;
  const std::string_view finish = string_at(*candidate, "/finishReason");
  out.set_finish_reason(finish);
  if (streamed && !finish.empty()) out.mark_stream_end();  // only the last chunk has one
  JsonElement parts;
  if ((*candidate)["content"]["parts"].get(parts) || !is_array(parts)) return;
  for (JsonElement part : as_array(parts)) {
    if (bool_at(part, "/thought").value_or(false)) continue;  // thought summaries
    out.add_text(string_at(part, "/text"));
  }
}

}  // namespace llmtap::llm
