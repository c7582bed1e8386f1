// Ollama's native API: /api/chat, /api/generate, /api/embed.
#include "llm/api/response_readers.h"

namespace llmtap::llm {

void read_ollama(JsonElement root, ResponseBuilder& out) {
  if (const std::string_view error = string_at(root, "/error"); !error.empty()) {
    out.set_error("", error);  // Ollama errors are plain text; the status says the kind
    return;
  }
  out.set_model(string_at(root, "/model"));
  TokenUsage t;
  t.input = count_at(root, "/prompt_eval_count");
  t.output = count_at(root, "/eval_count");
  out.add_tokens(t);
  out.set_finish_reason(string_at(root, "/done_reason"));
  out.add_text(string_at(root, "/message/content"));
  out.add_text(string_at(root, "/response"));
  if (bool_at(root, "/done").value_or(false)) out.mark_stream_end();
}

}  // namespace llmtap::llm
