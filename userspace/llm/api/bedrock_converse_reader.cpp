// Bedrock Converse / ConverseStream: one format for every model Bedrock hosts.
#include "llm/api/response_readers.h"

namespace llmtap::llm {
namespace {

TokenUsage converse_usage(JsonElement usage) {
  TokenUsage t;
  t.input = count_at(usage, "/inputTokens");
  t.output = count_at(usage, "/outputTokens");
  t.total = count_at(usage, "/totalTokens");
  t.cached = count_at(usage, "/cacheReadInputTokens");
  t.cache_creation = count_at(usage, "/cacheWriteInputTokens");
  // Nova's InvokeModel body uses the same shape with "...Count" names for the cache.
  if (!t.cached) t.cached = count_at(usage, "/cacheReadInputTokenCount");
  if (!t.cache_creation) t.cache_creation = count_at(usage, "/cacheWriteInputTokenCount");
  return t;
}

void read_usage(JsonElement e, ResponseBuilder& out) {
  if (const auto usage = element_at(e, "/usage"); usage && is_object(*usage)) {
    out.add_tokens(converse_usage(*usage));
  }
}

}  // namespace

void read_bedrock_converse_body(JsonElement root, ResponseBuilder& out) {
  out.set_finish_reason(string_at(root, "/stopReason"));
  read_usage(root, out);
  if (const auto content = element_at(root, "/output/message/content")) {
    add_parts_text(*content, out);
  }
}

void read_bedrock_converse_event(std::string_view type, JsonElement data, ResponseBuilder& out) {
  // Through a proxy or an SDK log the event may arrive wrapped: {"metadata": {...}}.
  if (type.empty()) {
    simdjson::dom::object wrapper;
    if (data.get_object().get(wrapper) || wrapper.size() != 1) return;
    for (auto [key, value] : wrapper) {
      if (is_object(value)) read_bedrock_converse_event(key, value, out);
    }
    return;
  }
  if (type == "contentBlockDelta") {
    out.add_text(string_at(data, "/delta/text"));
  } else if (type == "messageStop") {
    out.set_finish_reason(string_at(data, "/stopReason"));
    out.mark_stream_end();
  } else if (type == "metadata") {
    read_usage(data, out);
    out.mark_stream_end();
  } else if (type.ends_with("Exception")) {  // wrapped exceptions: {"throttlingException": {...}}
    out.set_error(type, string_at(data, "/message"));
  }
}

}  // namespace llmtap::llm
