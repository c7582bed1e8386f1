// Response side: parses bodies and stream events and hands them to the family's reader.
#include "llm/api/extract.h"

#include <charconv>

#include "llm/api/base64.h"
#include "llm/api/json_dom.h"
#include "llm/api/response_builder.h"
#include "llm/api/response_readers.h"

namespace llmtap::llm {
namespace {

bool is_bedrock(ApiFamily family) {
  return family == ApiFamily::kBedrockInvoke || family == ApiFamily::kBedrockInvokeStream ||
         family == ApiFamily::kBedrockConverse || family == ApiFamily::kBedrockConverseStream;
}

void read_body(ApiFamily family, JsonElement root, ResponseBuilder& out) {
  switch (family) {
    case ApiFamily::kOpenAiChatCompletions:
    case ApiFamily::kOpenAiCompletions:
    case ApiFamily::kOpenAiEmbeddings:
      return read_openai_chat(root, out);
    case ApiFamily::kOpenAiResponses:
      return read_openai_responses_body(root, out);
    case ApiFamily::kAnthropicMessages:
      return read_anthropic_body(root, out);
    case ApiFamily::kGeminiGenerateContent:
    case ApiFamily::kGeminiEmbedContent:
      return read_gemini(root, /*streamed=*/false, out);
    case ApiFamily::kGeminiStreamGenerateContent:
      return read_gemini(root, /*streamed=*/true, out);
    case ApiFamily::kBedrockInvoke:
    case ApiFamily::kBedrockInvokeStream:
      return read_bedrock_invoke_body(root, out);
    case ApiFamily::kBedrockConverse:
    case ApiFamily::kBedrockConverseStream:
      return read_bedrock_converse_body(root, out);
    case ApiFamily::kCohereChat:
      return read_cohere_chat_body(root, out);
    case ApiFamily::kCohereEmbed:
      return read_cohere_embed_body(root, out);
    case ApiFamily::kOllamaChat:
    case ApiFamily::kOllamaGenerate:
    case ApiFamily::kOllamaEmbed:
      return read_ollama(root, out);
  }
}

// The model-native chunk inside a Bedrock invoke-stream event: {"bytes": "<base64>"}.
void read_bedrock_chunk_event(JsonElement root, JsonDom& dom, ResponseBuilder& out) {
  const std::optional<std::string> chunk = base64_decode(string_at(root, "/bytes"));
  if (!chunk || !dom.parse(*chunk)) {
    if (out.facts().parse_error.empty()) out.facts().parse_error = "undecodable Bedrock chunk";
    return;
  }
  read_bedrock_invoke_chunk(dom.root(), out);
}

void read_event(ApiFamily family, const StreamEvent& event, JsonDom& dom, ResponseBuilder& out) {
  const JsonElement root = dom.root();
  switch (family) {
    case ApiFamily::kOpenAiResponses:
      return read_openai_responses_event(event.type, root, out);
    case ApiFamily::kAnthropicMessages:
      return read_anthropic_event(event.type, root, out);
    case ApiFamily::kGeminiGenerateContent:
    case ApiFamily::kGeminiStreamGenerateContent:
    case ApiFamily::kGeminiEmbedContent:
      return read_gemini(root, /*streamed=*/true, out);
    case ApiFamily::kBedrockInvoke:
    case ApiFamily::kBedrockInvokeStream:
      if (element_at(root, "/bytes")) return read_bedrock_chunk_event(root, dom, out);
      return read_bedrock_invoke_chunk(root, out);  // already decoded by whoever framed it
    case ApiFamily::kBedrockConverse:
    case ApiFamily::kBedrockConverseStream:
      return read_bedrock_converse_event(event.type, root, out);
    case ApiFamily::kCohereChat:
    case ApiFamily::kCohereEmbed:
      return read_cohere_chat_event(event.type, root, out);
    case ApiFamily::kOllamaChat:
    case ApiFamily::kOllamaGenerate:
    case ApiFamily::kOllamaEmbed:
      return read_ollama(root, out);
    case ApiFamily::kOpenAiChatCompletions:
    case ApiFamily::kOpenAiCompletions:
    case ApiFamily::kOpenAiEmbeddings:
      return read_openai_chat(root, out);
  }
}

std::optional<uint64_t> header_count(const http::HeaderFields& headers,
                                     std::string_view name) {
  for (const http::HttpHeader& h : headers) {
    if (!http::ascii_iequals(h.name, name)) continue;
    uint64_t value = 0;
    const auto [end, ec] = std::from_chars(h.value.data(), h.value.data() + h.value.size(), value);
    if (ec == std::errc() && end == h.value.data() + h.value.size()) return value;
  }
  return std::nullopt;
}

// Bedrock's headers: the billed token counts, and the error kind
// ("ThrottlingException:http://internal.amazon.com/coral/...").
void read_bedrock_headers(const http::HeaderFields& headers, JsonElement* root,
                          ResponseBuilder& out) {
  TokenUsage& tokens = out.facts().tokens;
  if (auto n = header_count(headers, "x-amzn-bedrock-input-token-count")) tokens.input = n;
  if (auto n = header_count(headers, "x-amzn-bedrock-output-token-count")) tokens.output = n;
  for (const http::HttpHeader& h : headers) {
    if (!http::ascii_iequals(h.name, "x-amzn-errortype")) continue;
    const std::string_view type = std::string_view(h.value).substr(0, h.value.find(':'));
    std::string_view message;
    if (root) {
      message = string_at(*root, "/message");
      if (message.empty()) message = string_at(*root, "/Message");
    }
    out.set_error(type, message);
  }
}

// Error bodies of APIs without a structured error: {"message": ...} (Cohere, Bedrock),
// {"detail": ...} (FastAPI-based servers).
void read_plain_error(JsonElement root, ResponseBuilder& out) {
  for (std::string_view pointer : {"/message", "/detail", "/error", "/Message"}) {
    const std::string_view message = string_at(root, pointer);
    if (!message.empty()) return out.set_error("", message);
  }
}

}  // namespace

bool response_facts_read_headers(ApiFamily family) { return is_bedrock(family); }

ResponseFacts extract_response(ApiFamily family, int status,
                               const http::HeaderFields& headers, std::string_view body,
                               const ExtractOptions& options) {
  ResponseBuilder out(options);
  ResponseFacts& facts = out.facts();
  JsonDom dom;
  JsonElement root;
  bool have_root = false;
  if (body.empty()) {
    facts.parse_error = "empty body";
  } else if (!dom.parse(body)) {
    facts.parse_error = dom.error();
  } else {
    root = dom.root();
    have_root = true;
    facts.parse_error = dom.repairs();
    if (is_array(root) && family == ApiFamily::kGeminiStreamGenerateContent) {
      // A whole streamed JSON array handed over as one body: read it chunk by chunk.
      facts.parsed = true;
      for (JsonElement chunk : as_array(root)) {
        ++facts.stream_events;
        read_gemini(chunk, /*streamed=*/true, out);
      }
    } else if (!is_object(root)) {
      facts.parse_error = "expected a JSON object";
    } else {
      facts.parsed = true;
      read_body(family, root, out);
    }
  }
  if (is_bedrock(family)) read_bedrock_headers(headers, have_root ? &root : nullptr, out);
  if (status >= 400 && have_root && is_object(root) && !out.has_error()) {
    read_plain_error(root, out);
  }
  return out.finish();
}

ResponseFacts extract_stream(ApiFamily family, const std::vector<StreamEvent>& events,
                             const ExtractOptions& options) {
  ResponseBuilder out(options);
  ResponseFacts& facts = out.facts();
  JsonDom dom;
  for (const StreamEvent& event : events) {
    ++facts.stream_events;
    std::string_view data = event.data;
    while (!data.empty() && (data.back() == '\n' || data.back() == '\r' || data.back() == ' ')) {
      data.remove_suffix(1);
    }
    if (data == "[DONE]") {
      out.mark_stream_end();
      continue;
    }
    if (event.is_exception) {  // AWS event-stream exception: the type names it
      const std::string_view message = dom.parse(data) ? string_at(dom.root(), "/message") : "";
      out.set_error(event.type.empty() ? "exception" : event.type, message);
      continue;
    }
    if (data.empty()) continue;  // keep-alives, SSE events without data
    if (!dom.parse(data) || !is_object(dom.root())) {
      if (facts.parse_error.empty()) {
        facts.parse_error = "event " + std::to_string(facts.stream_events) + ": " +
                            (dom.error().empty() ? "expected a JSON object" : dom.error());
      }
      continue;
    }
    if (!dom.repairs().empty() && facts.parse_error.empty()) {
      facts.parse_error = "event " + std::to_string(facts.stream_events) + ": " + dom.repairs();
    }
    facts.parsed = true;
    read_event(family, event, dom, out);
  }
  if (events.empty()) facts.parse_error = "no events";
  return out.finish();
}

}  // namespace llmtap::llm
