// OpenAI Responses API (/v1/responses): bodies and typed stream events.
#include "llm/api/response_readers.h"

namespace llmtap::llm {
namespace {

TokenUsage responses_usage(JsonElement usage) {
  TokenUsage t;
  t.input = count_at(usage, "/input_tokens");
  t.output = count_at(usage, "/output_tokens");
  t.total = count_at(usage, "/total_tokens");
  t.cached = count_at(usage, "/input_tokens_details/cached_tokens");
  t.reasoning = count_at(usage, "/output_tokens_details/reasoning_tokens");
  return t;
}

// The response object, as a body or inside response.* events. Text only from bodies: in a
// stream it has already come as deltas.
void read_response_object(JsonElement response, bool with_text, ResponseBuilder& out) {
  if (read_openai_error(response, out)) return;
  out.set_model(string_at(response, "/model"));
  out.set_response_id(string_at(response, "/id"));
  if (const auto usage = element_at(response, "/usage"); usage && is_object(*usage)) {
    out.add_tokens(responses_usage(*usage));
  }
  // "completed", or why it stopped early ("max_output_tokens", "content_filter").
  const std::string_view incomplete = string_at(response, "/incomplete_details/reason");
  out.set_finish_reason(incomplete.empty() ? string_at(response, "/status") : incomplete);
  JsonElement output;
  if (!with_text || response["output"].get(output) || !is_array(output)) return;
  for (JsonElement item : as_array(output)) {
    if (string_at(item, "/type") != "message") continue;
    JsonElement content;
    if (item["content"].get(content) || !is_array(content)) continue;
    for (JsonElement part : as_array(content)) {
      if (string_at(part, "/type") == "output_text") out.add_text(string_at(part, "/text"));
    }
  }
}

}  // namespace

void read_openai_responses_body(JsonElement root, ResponseBuilder& out) {
  read_response_object(root, /*with_text=*/true, out);
}

void read_openai_responses_event(std::string_view type, JsonElement data, ResponseBuilder& out) {
  if (type.empty()) type = string_at(data, "/type");
  if (type == "response.output_text.delta") {
    out.add_text(string_at(data, "/delta"));
    return;
  }
  if (type == "error") {
    std::string code(string_at(data, "/code"));
    out.set_error(code.empty() ? "error" : code, string_at(data, "/message"));
    return;
  }
  const std::optional<JsonElement> response = element_at(data, "/response");
  if (!response || !is_object(*response)) return;
  read_response_object(*response, /*with_text=*/false, out);
  if (type == "response.failed") {
    std::string code(string_at(*response, "/error/code"));
    out.set_error(code.empty() ? "response_failed" : code, string_at(*response, "/error/message"));
  }
  if (type == "response.completed" || type == "response.incomplete" || type == "response.failed") {
    out.mark_stream_end();
  }
}

}  // namespace llmtap::llm
