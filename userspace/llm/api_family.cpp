#include "llm/api_family.h"

#include <array>

namespace llmtap::llm {
namespace {

struct FamilyName {
  ApiFamily family;
  std::string_view name;
  std::string_view operation;
};

constexpr std::array kFamilies = {
    FamilyName{ApiFamily::kOpenAiChatCompletions, "openai.chat_completions", "chat_completions"},
    FamilyName{ApiFamily::kOpenAiCompletions, "openai.completions", "completions"},
    FamilyName{ApiFamily::kOpenAiResponses, "openai.responses", "responses"},
    FamilyName{ApiFamily::kOpenAiEmbeddings, "openai.embeddings", "embeddings"},
    FamilyName{ApiFamily::kAnthropicMessages, "anthropic.messages", "messages"},
    FamilyName{ApiFamily::kGeminiGenerateContent, "gemini.generate_content", "generate_content"},
    FamilyName{ApiFamily::kGeminiStreamGenerateContent, "gemini.stream_generate_content",
               "stream_generate_content"},
    FamilyName{ApiFamily::kGeminiEmbedContent, "gemini.embed_content", "embed_content"},
    FamilyName{ApiFamily::kBedrockInvoke, "bedrock.invoke", "invoke"},
    FamilyName{ApiFamily::kBedrockInvokeStream, "bedrock.invoke_stream",
               "invoke_with_response_stream"},
    FamilyName{ApiFamily::kBedrockConverse, "bedrock.converse", "converse"},
    FamilyName{ApiFamily::kBedrockConverseStream, "bedrock.converse_stream", "converse_stream"},
    FamilyName{ApiFamily::kCohereChat, "cohere.chat", "chat"},
    FamilyName{ApiFamily::kCohereEmbed, "cohere.embed", "embed"},
    FamilyName{ApiFamily::kOllamaChat, "ollama.chat", "chat"},
    FamilyName{ApiFamily::kOllamaGenerate, "ollama.generate", "generate"},
    FamilyName{ApiFamily::kOllamaEmbed, "ollama.embed", "embed"},
};

const FamilyName& entry(ApiFamily family) {
  for (const auto& f : kFamilies) {
    if (f.family == family) return f;
  }
  return kFamilies.front();  // every enumerator is listed above
}

}  // namespace

std::string_view to_string(ApiFamily family) { return entry(family).name; }

std::string_view api_operation(ApiFamily family) { return entry(family).operation; }

std::optional<ApiFamily> api_family_from_string(std::string_view name) {
  for (const auto& f : kFamilies) {
    if (f.name == name) return f.family;
  }
  return std::nullopt;
}

}  // namespace llmtap::llm
