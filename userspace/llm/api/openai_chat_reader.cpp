// OpenAI chat completions / completions / embeddings and the compatible servers' variants.
#include "llm/api/response_readers.h"

namespace llmtap::llm {
namespace {

TokenUsage openai_usage(JsonElement usage) {
  TokenUsage t;
  t.input = count_at(usage, "/prompt_tokens");
  t.output = count_at(usage, "/completion_tokens");
  t.total = count_at(usage, "/total_tokens");
  t.cached = count_at(usage, "/prompt_tokens_details/cached_tokens");
  if (!t.cached) t.cached = count_at(usage, "/prompt_cache_hit_tokens");  // DeepSeek
  t.reasoning = count_at(usage, "/completion_tokens_details/reasoning_tokens");
  // A few compatible servers answer chat calls with Responses-style names.
  if (!t.input) t.input = count_at(usage, "/input_tokens");
  if (!t.output) t.output = count_at(usage, "/output_tokens");
  return t;
}

void read_usage_object(JsonElement root, std::string_view pointer, ResponseBuilder& out) {
  const std::optional<JsonElement> usage = element_at(root, pointer);
  if (usage && is_object(*usage)) out.add_tokens(openai_usage(*usage));
}

}  // namespace

bool read_openai_error(JsonElement root, ResponseBuilder& out) {
  if (const std::optional<JsonElement> error = element_at(root, "/error")) {
    std::string_view text;
    if (!error->get_string().get(text)) {  // {"error": "model not found"}
      out.set_error("", text);
      return true;
    }
    if (!is_object(*error)) return false;  // "error": null on success (Responses API)
    // The string code is the specific one ("invalid_api_key", "rate_limit_exceeded"); the
    // type is broad. Numeric codes (vLLM, proxies) only when nothing else is there.
    std::string type(string_at(*error, "/code"));
    if (type.empty()) type = string_at(*error, "/type");
    if (type.empty()) type = code_at(*error, "/code");
    out.set_error(type, string_at(*error, "/message"));
    return true;
  }
  if (string_at(root, "/object") == "error") {  // vLLM's ErrorResponse
    std::string type(string_at(root, "/type"));
    if (type.empty()) type = code_at(root, "/code");
    out.set_error(type, string_at(root, "/message"));
    return true;
  }
  return false;
}

void read_openai_chat(JsonElement root, ResponseBuilder& out) {
  if (read_openai_error(root, out)) return;
  out.set_model(string_at(root, "/model"));
  out.set_response_id(string_at(root, "/id"));
  read_usage_object(root, "/usage", out);
  read_usage_object(root, "/x_groq/usage", out);  // Groq: last stream chunk
  JsonElement choices;
  if (root["choices"].get(choices) || !is_array(choices)) return;
  for (JsonElement choice : as_array(choices)) {
    // With n > 1 the choices interleave; report the first.
    if (count_at(choice, "/index").value_or(0) != 0) continue;
    out.set_finish_reason(string_at(choice, "/finish_reason"));
    if (const auto content = element_at(choice, "/message/content")) {
      std::string_view text;
      if (!content->get_string().get(text)) {
        out.add_text(text);
      } else if (is_array(*content)) {
        add_parts_text(*content, out);  // Mistral's content-part arrays
      }
    }
    out.add_text(string_at(choice, "/delta/content"));
    out.add_text(string_at(choice, "/text"));  // legacy completions
    break;
  }
}

void add_parts_text(JsonElement parts, ResponseBuilder& out) {
  if (!is_array(parts)) return;
  for (JsonElement part : as_array(parts)) {
    std::string_view text;
    if (!part.get_string().get(text) || !part["text"].get_string().get(text)) out.add_text(text);
  }
}

}  // namespace llmtap::llm
