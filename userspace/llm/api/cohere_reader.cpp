// Cohere v2 chat and embed.
#include "llm/api/response_readers.h"

namespace llmtap::llm {
namespace {

// "tokens" are what the model saw; "billed_units" what was charged (it leaves out the
// prompt template). The first is the token usage; the second only when it is all there is.
TokenUsage cohere_usage(JsonElement usage) {
  TokenUsage t;
  t.input = count_at(usage, "/tokens/input_tokens");
  t.output = count_at(usage, "/tokens/output_tokens");
  if (!t.input) t.input = count_at(usage, "/billed_units/input_tokens");
  if (!t.output) t.output = count_at(usage, "/billed_units/output_tokens");
  return t;
}

void read_usage(JsonElement e, std::string_view pointer, ResponseBuilder& out) {
  if (const auto usage = element_at(e, pointer); usage && is_object(*usage)) {
    out.add_tokens(cohere_usage(*usage));
  }
}

}  // namespace

void read_cohere_chat_body(JsonElement root, ResponseBuilder& out) {
  out.set_response_id(string_at(root, "/id"));
  out.set_finish_reason(string_at(root, "/finish_reason"));
  read_usage(root, "/usage", out);
  if (const auto content = element_at(root, "/message/content")) add_parts_text(*content, out);
}

void read_cohere_chat_event(std::string_view type, JsonElement data, ResponseBuilder& out) {
  if (type.empty()) type = string_at(data, "/type");
  if (type == "message-start") {
    out.set_response_id(string_at(data, "/id"));
  } else if (type == "content-delta") {
    out.add_text(string_at(data, "/delta/message/content/text"));
  } else if (type == "message-end") {
    out.set_finish_reason(string_at(data, "/delta/finish_reason"));
    read_usage(data, "/delta/usage", out);
    out.mark_stream_end();
  }
}

void read_cohere_embed_body(JsonElement root, ResponseBuilder& out) {
  out.set_response_id(string_at(root, "/id"));
  TokenUsage t;
  t.input = count_at(root, "/meta/billed_units/input_tokens");
  out.add_tokens(t);
}

}  // namespace llmtap::llm
