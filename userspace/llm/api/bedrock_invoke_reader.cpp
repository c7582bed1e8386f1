// Bedrock InvokeModel / InvokeModelWithResponseStream: bodies and chunks are in the hosted
// model's own format, so each is recognised by its shape.
#include "llm/api/response_readers.h"

namespace llmtap::llm {
namespace {

bool has(JsonElement e, std::string_view pointer) { return element_at(e, pointer).has_value(); }

// Every model's last stream chunk carries Bedrock's own counts; they are the billed ones.
void read_invocation_metrics(JsonElement e, ResponseBuilder& out) {
  const auto metrics = element_at(e, "/amazon-bedrock-invocationMetrics");
  if (!metrics || !is_object(*metrics)) return;
  TokenUsage t;
  t.input = count_at(*metrics, "/inputTokenCount");
  t.output = count_at(*metrics, "/outputTokenCount");
  t.cached = count_at(*metrics, "/cacheReadInputTokenCount");
  t.cache_creation = count_at(*metrics, "/cacheWriteInputTokenCount");
  out.add_tokens(t);
  out.mark_stream_end();
}

// Amazon Titan text: {"inputTextTokenCount", "results": [{"tokenCount", "outputText",
// "completionReason"}]}; stream chunks: {"outputText", "totalOutputTextTokenCount", ...}.
void read_titan(JsonElement root, ResponseBuilder& out) {
  TokenUsage t;
  t.input = count_at(root, "/inputTextTokenCount");
  t.output = count_at(root, "/totalOutputTextTokenCount");
  JsonElement results;
  if (!root["results"].get(results) && is_array(results)) {
    uint64_t sum = 0;
    bool any = false;
    for (JsonElement result : as_array(results)) {
      if (const auto n = count_at(result, "/tokenCount")) {
        sum += *n;
        any = true;
      }
    }
    if (any) t.output = sum;
    out.set_finish_reason(string_at(root, "/results/0/completionReason"));
    out.add_text(string_at(root, "/results/0/outputText"));
  } else {
    out.set_finish_reason(string_at(root, "/completionReason"));
    out.add_text(string_at(root, "/outputText"));
  }
  out.add_tokens(t);
}

// Meta Llama: {"generation", "prompt_token_count", "generation_token_count", "stop_reason"};
// in a stream the generation count grows chunk by chunk, so the latest is the total.
void read_llama(JsonElement root, ResponseBuilder& out) {
  TokenUsage t;
  t.input = count_at(root, "/prompt_token_count");
  t.output = count_at(root, "/generation_token_count");
  out.add_tokens(t);
  out.set_finish_reason(string_at(root, "/stop_reason"));
  out.add_text(string_at(root, "/generation"));
}

// Mistral (text completion format): {"outputs": [{"text", "stop_reason"}]}.
void read_mistral(JsonElement root, ResponseBuilder& out) {
  out.set_finish_reason(string_at(root, "/outputs/0/stop_reason"));
  out.add_text(string_at(root, "/outputs/0/text"));
}

// Cohere Command: {"generations": [{"text", "finish_reason"}]}; Command R: {"text",
// "finish_reason", "generation_id"}; stream chunks: {"text"} ... {"is_finished", ...}.
void read_cohere_command(JsonElement root, ResponseBuilder& out) {
  if (has(root, "/generations")) {
    out.set_finish_reason(string_at(root, "/generations/0/finish_reason"));
    out.add_text(string_at(root, "/generations/0/text"));
    out.set_response_id(string_at(root, "/id"));
    return;
  }
  out.set_finish_reason(string_at(root, "/finish_reason"));
  out.set_response_id(string_at(root, "/generation_id"));
  out.add_text(string_at(root, "/text"));
}

// Nova stream chunks wrap converse-shaped events in a single key: {"contentBlockDelta": {...}}.
bool read_wrapped_converse_event(JsonElement chunk, ResponseBuilder& out) {
  for (std::string_view type : {"messageStart", "contentBlockStart", "contentBlockDelta",
                                "contentBlockStop", "messageStop", "metadata"}) {
    const std::string pointer = "/" + std::string(type);
    if (const auto inner = element_at(chunk, pointer); inner && is_object(*inner)) {
      read_bedrock_converse_event(type, *inner, out);
      return true;
    }
  }
  return false;
}

// The shapes shared by whole bodies and stream chunks.
void read_native(JsonElement root, ResponseBuilder& out) {
  if (has(root, "/choices")) {
    read_openai_chat(root, out);  // Mistral Large 2, AI21 Jamba, gpt-oss: chat-completion format
  } else if (has(root, "/inputTextTokenCount") || has(root, "/results") ||
             has(root, "/outputText")) {
    read_titan(root, out);
  } else if (has(root, "/generation") || has(root, "/prompt_token_count")) {
    read_llama(root, out);
  } else if (has(root, "/outputs")) {
    read_mistral(root, out);
  } else if (has(root, "/generations") || has(root, "/generation_id") || has(root, "/text") ||
             has(root, "/is_finished")) {
    read_cohere_command(root, out);
  }
}

}  // namespace

void read_bedrock_invoke_body(JsonElement root, ResponseBuilder& out) {
  if (string_at(root, "/type") == "message" || string_at(root, "/type") == "error" ||
      (has(root, "/stop_reason") && has(root, "/content"))) {
    read_anthropic_body(root, out);
  } else if (has(root, "/output/message")) {
    read_bedrock_converse_body(root, out);  // Amazon Nova answers in the Converse shape
  } else {
    read_native(root, out);
  }
}

void read_bedrock_invoke_chunk(JsonElement chunk, ResponseBuilder& out) {
  if (!string_at(chunk, "/type").empty()) {
    read_anthropic_event("", chunk, out);  // Claude: Messages API stream events
  } else if (!read_wrapped_converse_event(chunk, out)) {
    read_native(chunk, out);
    if (bool_at(chunk, "/is_finished").value_or(false)) out.mark_stream_end();
  }
  read_invocation_metrics(chunk, out);
}

}  // namespace llmtap::llm
