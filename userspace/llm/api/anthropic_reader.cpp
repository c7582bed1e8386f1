// Anthropic Messages API (also the model-native format of Claude on Bedrock).
#include "llm/api/response_readers.h"

namespace llmtap::llm {
namespace {

TokenUsage anthropic_usage(JsonElement usage) {
  TokenUsage t;
  t.input = count_at(usage, "/input_tokens");
  t.output = count_at(usage, "/output_tokens");
  t.cached = count_at(usage, "/cache_read_input_tokens");
  t.cache_creation = count_at(usage, "/cache_creation_input_tokens");
  return t;
}

void read_usage(JsonElement e, std::string_view pointer, ResponseBuilder& out) {
  if (const auto usage = element_at(e, pointer); usage && is_object(*usage)) {
    out.add_tokens(anthropic_usage(*usage));
  }
}

bool read_error(JsonElement root, ResponseBuilder& out) {
  const auto error = element_at(root, "/error");
  if (!error || !is_object(*error)) return false;
  out.set_error(string_at(*error, "/type"), string_at(*error, "/message"));
  return true;
}

}  // namespace

void read_anthropic_body(JsonElement root, ResponseBuilder& out) {
  if (read_error(root, out)) return;
  out.set_model(string_at(root, "/model"));
  out.set_response_id(string_at(root, "/id"));
  out.set_finish_reason(string_at(root, "/stop_reason"));
  read_usage(root, "/usage", out);
  JsonElement content;
  if (root["content"].get(content) || !is_array(content)) return;
  for (JsonElement block : as_array(content)) {
    if (string_at(block, "/type") == "text") out.add_text(string_at(block, "/text"));
  }
}

void read_anthropic_event(std::string_view type, JsonElement data, ResponseBuilder& out) {
  if (type.empty()) type = string_at(data, "/type");
  if (type == "message_start") {
    out.set_model(string_at(data, "/message/model"));
    out.set_response_id(string_at(data, "/message/id"));
    read_usage(data, "/message/usage", out);
  } else if (type == "content_block_delta") {
    // Thinking deltas are not the completion; only text deltas are.
    if (string_at(data, "/delta/type") == "text_delta")
      out.add_text(string_at(data, "/delta/text"));
  } else if (type == "message_delta") {
    out.set_finish_reason(string_at(data, "/delta/stop_reason"));
    read_usage(data, "/usage", out);
  } else if (type == "message_stop") {
    out.mark_stream_end();
  } else if (type == "error") {
    read_error(data, out);
  }
}

}  // namespace llmtap::llm
