#pragma once
// The wire formats of LLM APIs that llmtap understands. A provider catalog entry maps a host
// and path to one of these; the extractors read request and response bodies by it.

#include <optional>
#include <string_view>

namespace llmtap::llm {

enum class ApiFamily {
  kOpenAiChatCompletions,        // POST /v1/chat/completions (and every OpenAI-compatible server)
  kOpenAiCompletions,            // POST /v1/completions (legacy)
  kOpenAiResponses,              // POST /v1/responses
  kOpenAiEmbeddings,             // POST /v1/embeddings
  kAnthropicMessages,            // POST /v1/messages
  kGeminiGenerateContent,        // POST .../models/{model}:generateContent
  kGeminiStreamGenerateContent,  // POST .../models/{model}:streamGenerateContent[?alt=sse]
  kGeminiEmbedContent,           // POST .../models/{model}:embedContent / :batchEmbedContents
  kBedrockInvoke,                // POST /model/{modelId}/invoke
  kBedrockInvokeStream,          // POST /model/{modelId}/invoke-with-response-stream
  kBedrockConverse,              // POST /model/{modelId}/converse
  kBedrockConverseStream,        // POST /model/{modelId}/converse-stream
  kCohereChat,                   // POST /v2/chat
  kCohereEmbed,                  // POST /v2/embed
  kOllamaChat,                   // POST /api/chat
  kOllamaGenerate,               // POST /api/generate
  kOllamaEmbed,                  // POST /api/embed (and legacy /api/embeddings)
};

// Stable names used in the catalog file and in events, e.g. "openai.chat_completions".
std::string_view to_string(ApiFamily family);
std::optional<ApiFamily> api_family_from_string(std::string_view name);

// The short API name for events ("chat_completions", "messages", "generate_content", ...).
std::string_view api_operation(ApiFamily family);

}  // namespace llmtap::llm
