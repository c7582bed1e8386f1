// The built-in catalog (policies/providers.yaml) against one request per provider and API.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "llm/catalog/provider_catalog.h"

namespace llmtap::llm {
namespace {

using http::HttpHeader;

struct Case {
  std::string host;
  std::string target;
  std::string provider;
  ApiFamily family;
  std::string model = "";
  std::string deployment = "";
  bool fallback = false;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.host << c.target; }

class BuiltinCatalogTest : public ::testing::TestWithParam<Case> {
 protected:
  static const ProviderCatalog& catalog() {
    static const ProviderCatalog kCatalog = ProviderCatalog::builtin();
    return kCatalog;
  }
};

TEST_P(BuiltinCatalogTest, Matches) {
  const Case& c = GetParam();
  const auto match = catalog().match(c.host, "POST", c.target, {});
  ASSERT_TRUE(match.has_value()) << c.host << c.target;
  EXPECT_EQ(match->provider, c.provider);
  EXPECT_EQ(to_string(match->family), to_string(c.family));
  EXPECT_EQ(match->model_from_path, c.model);
  EXPECT_EQ(match->deployment, c.deployment);
  EXPECT_EQ(match->fallback, c.fallback);
}

using F = ApiFamily;

INSTANTIATE_TEST_SUITE_P(
    Providers, BuiltinCatalogTest,
    ::testing::Values(
        // OpenAI
        Case{"api.openai.com", "/v1/chat/completions", "openai", F::kOpenAiChatCompletions},
        Case{"api.openai.com", "/v1/responses", "openai", F::kOpenAiResponses},
        Case{"api.openai.com", "/v1/completions", "openai", F::kOpenAiCompletions},
        Case{"api.openai.com", "/v1/embeddings", "openai", F::kOpenAiEmbeddings},
        // Azure OpenAI
        Case{"myres.openai.azure.com",
             "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21",
             "azure-openai", F::kOpenAiChatCompletions, "", "gpt-4o-prod"},
        Case{"myres.openai.azure.com", "/openai/deployments/davinci/completions?api-version=1",
             "azure-openai", F::kOpenAiCompletions, "", "davinci"},
        Case{"myres.cognitiveservices.azure.com",
             "/openai/deployments/emb%20one/embeddings?api-version=2024-10-21", "azure-openai",
             F::kOpenAiEmbeddings, "", "emb one"},
        Case{"myres.openai.azure.com", "/openai/v1/chat/completions", "azure-openai",
             F::kOpenAiChatCompletions},
        Case{"myres.openai.azure.com", "/openai/v1/responses", "azure-openai", F::kOpenAiResponses},
        // Anthropic
        Case{"api.anthropic.com", "/v1/messages", "anthropic", F::kAnthropicMessages},
        // Gemini
        Case{"generativelanguage.googleapis.com", "/v1beta/models/gemini-1.5-pro:generateContent",
             "gemini", F::kGeminiGenerateContent, "gemini-1.5-pro"},
        Case{"generativelanguage.googleapis.com",
             "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", "gemini",
             F::kGeminiStreamGenerateContent, "gemini-2.0-flash"},
        Case{"generativelanguage.googleapis.com", "/v1/models/text-embedding-004:embedContent",
             "gemini", F::kGeminiEmbedContent, "text-embedding-004"},
        Case{"generativelanguage.googleapis.com",
             "/v1beta/models/gemini-embedding-001:batchEmbedContents", "gemini",
             F::kGeminiEmbedContent, "gemini-embedding-001"},
        Case{"generativelanguage.googleapis.com", "/v1beta/tunedModels/my-model-42:generateContent",
             "gemini", F::kGeminiGenerateContent, "my-model-42"},
        Case{"generativelanguage.googleapis.com", "/v1beta/openai/chat/completions",
             "gemini", F::kOpenAiChatCompletions},
        // Vertex AI
        Case{"us-central1-aiplatform.googleapis.com",
             "/v1/projects/p1/locations/us-central1/publishers/google/models/"
             "gemini-1.5-pro-002:generateContent",
             "vertex-ai", F::kGeminiGenerateContent, "gemini-1.5-pro-002"},
        Case{"aiplatform.googleapis.com",
             "/v1beta1/projects/p1/locations/global/publishers/google/models/"
             "gemini-2.5-flash:streamGenerateContent?alt=sse",
             "vertex-ai", F::kGeminiStreamGenerateContent, "gemini-2.5-flash"},
        Case{"europe-west1-aiplatform.googleapis.com",
             "/v1/projects/p1/locations/europe-west1/publishers/anthropic/models/"
             "claude-3-5-sonnet-v2@20241022:rawPredict",
             "vertex-ai", F::kAnthropicMessages, "claude-3-5-sonnet-v2@20241022"},
        Case{"us-east5-aiplatform.googleapis.com",
             "/v1/projects/p1/locations/us-east5/publishers/anthropic/models/"
             "claude-3-haiku@20240307:streamRawPredict",
             "vertex-ai", F::kAnthropicMessages, "claude-3-haiku@20240307"},
        // Bedrock (model ids are percent-encoded in the path)
        Case{"bedrock-runtime.us-east-1.amazonaws.com",
             "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke", "bedrock",
             F::kBedrockInvoke, "anthropic.claude-3-5-sonnet-20240620-v1:0"},
        Case{"bedrock-runtime.eu-west-3.amazonaws.com",
             "/model/meta.llama3-70b-instruct-v1%3A0/invoke-with-response-stream", "bedrock",
             F::kBedrockInvokeStream, "meta.llama3-70b-instruct-v1:0"},
        Case{"bedrock-runtime.us-west-2.amazonaws.com", "/model/amazon.nova-pro-v1%3A0/converse",
             "bedrock", F::kBedrockConverse, "amazon.nova-pro-v1:0"},
        Case{
            "bedrock-runtime-fips.us-east-1.amazonaws.com",
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x/converse-stream",
            "bedrock", F::kBedrockConverseStream,
            "arn:aws:bedrock:us-east-1:1:inference-profile/us.x"},
        // OpenAI-compatible services
        Case{"api.deepseek.com", "/chat/completions", "deepseek", F::kOpenAiChatCompletions},
        Case{"api.deepseek.com", "/v1/chat/completions", "deepseek", F::kOpenAiChatCompletions},
        Case{"api.deepseek.com", "/anthropic/v1/messages", "deepseek", F::kAnthropicMessages},
        Case{"api.mistral.ai", "/v1/chat/completions", "mistral", F::kOpenAiChatCompletions},
        Case{"api.mistral.ai", "/v1/embeddings", "mistral", F::kOpenAiEmbeddings},
        Case{"api.mistral.ai", "/v1/fim/completions", "mistral", F::kOpenAiCompletions},
        Case{"api.groq.com", "/openai/v1/chat/completions", "groq", F::kOpenAiChatCompletions},
        Case{"api.together.xyz", "/v1/chat/completions", "together", F::kOpenAiChatCompletions},
        Case{"api.together.xyz", "/v1/completions", "together", F::kOpenAiCompletions},
        Case{"api.fireworks.ai", "/inference/v1/chat/completions", "fireworks",
             F::kOpenAiChatCompletions},
        Case{"openrouter.ai", "/api/v1/chat/completions", "openrouter", F::kOpenAiChatCompletions},
        Case{"api.x.ai", "/v1/chat/completions", "xai", F::kOpenAiChatCompletions},
        Case{"api.perplexity.ai", "/chat/completions", "perplexity", F::kOpenAiChatCompletions},
        Case{"api.cohere.com", "/v2/chat", "cohere", F::kCohereChat},
        Case{"api.cohere.ai", "/v2/embed", "cohere", F::kCohereEmbed},
        Case{"api.cohere.com", "/compatibility/v1/chat/completions", "cohere",
             F::kOpenAiChatCompletions},
        Case{"router.huggingface.co", "/v1/chat/completions", "huggingface",
             F::kOpenAiChatCompletions},
        Case{"router.huggingface.co", "/together/v1/chat/completions", "huggingface",
             F::kOpenAiChatCompletions},
        Case{"router.huggingface.co",
             "/hf-inference/models/meta-llama/Llama-3.1-8B-Instruct/v1/chat/completions",
             "huggingface", F::kOpenAiChatCompletions},
        Case{"api-inference.huggingface.co",
             "/models/meta-llama/Llama-3.1-8B-Instruct/v1/chat/completions", "huggingface",
             F::kOpenAiChatCompletions},
        // Ollama: default port (a guess), and its cloud
        Case{"localhost:11434", "/api/chat", "ollama", F::kOllamaChat, "", "", true},
        Case{"127.0.0.1:11434", "/api/generate", "ollama", F::kOllamaGenerate, "", "", true},
        Case{"ollama.internal:11434", "/api/embed", "ollama", F::kOllamaEmbed, "", "", true},
        Case{"localhost:11434", "/api/embeddings", "ollama", F::kOllamaEmbed, "", "", true},
        Case{"localhost:11434", "/v1/chat/completions", "ollama", F::kOpenAiChatCompletions, "", "",
             true},
        Case{"ollama.com", "/api/chat", "ollama", F::kOllamaChat},
        // Fallbacks: unknown hosts speaking a known API shape
        Case{"vllm.internal:8000", "/v1/chat/completions", "openai-compatible",
             F::kOpenAiChatCompletions, "", "", true},
        Case{"llm.corp.example", "/serving/openai/v1/chat/completions", "openai-compatible",
             F::kOpenAiChatCompletions, "", "", true},
        Case{"proxy.example", "/chat/completions", "openai-compatible", F::kOpenAiChatCompletions,
             "", "", true},
        Case{"localhost:1234", "/v1/completions", "openai-compatible", F::kOpenAiCompletions, "",
             "", true},
        Case{"localhost:4000", "/v1/responses", "openai-compatible", F::kOpenAiResponses, "", "",
             true},
        Case{"tei.local", "/v1/embeddings", "openai-compatible", F::kOpenAiEmbeddings, "", "",
             true},
        Case{"litellm:4000", "/v1/messages", "anthropic-compatible", F::kAnthropicMessages, "", "",
             true},
        Case{"ollama-box:8080", "/api/chat", "ollama-compatible", F::kOllamaChat, "", "", true},
        Case{"ollama-box:8080", "/api/generate", "ollama-compatible", F::kOllamaGenerate, "", "",
             true},
        Case{"ollama-box:8080", "/api/embed", "ollama-compatible", F::kOllamaEmbed, "", "", true}));

TEST(BuiltinCatalog, Loads) {
  const ProviderCatalog catalog = ProviderCatalog::builtin();
  EXPECT_GE(catalog.size(), 20u);
  EXPECT_GE(catalog.route_count(), 80u);
}

TEST(BuiltinCatalog, NonLlmRequestsDoNotMatch) {
  const ProviderCatalog catalog = ProviderCatalog::builtin();
  EXPECT_FALSE(catalog.match("api.openai.com", "GET", "/", {}));
  EXPECT_FALSE(catalog.match("api.openai.com", "GET", "/v1/models", {}));
  EXPECT_FALSE(catalog.match("api.openai.com", "GET", "/v1/chat/completions", {}));
  EXPECT_FALSE(catalog.match("api.openai.com", "POST", "/v1/files", {}));
  EXPECT_FALSE(catalog.match("localhost:11434", "GET", "/api/tags", {}));
  EXPECT_FALSE(catalog.match("localhost:11434", "POST", "/api/pull", {}));
  EXPECT_FALSE(catalog.match("github.com", "POST", "/upload", {}));
  EXPECT_FALSE(catalog.match("example.com", "GET", "/v1/models", {}));
  EXPECT_FALSE(catalog.match("api.anthropic.com", "POST", "/v1/messages/count_tokens", {}));
  EXPECT_FALSE(catalog.match("api.anthropic.com", "POST", "/v1/messages/batches", {}));
  EXPECT_FALSE(catalog.match("generativelanguage.googleapis.com", "POST",
                             "/v1beta/models/gemini-1.5-pro:countTokens", {}));
}

TEST(BuiltinCatalog, NamedHostsDoNotFallBack) {
  const ProviderCatalog catalog = ProviderCatalog::builtin();
  // A path OpenAI does not serve is not an "openai-compatible" call on api.openai.com.
  EXPECT_FALSE(catalog.match("api.openai.com", "POST", "/v2/chat/completions", {}));
  EXPECT_FALSE(catalog.match("api.anthropic.com", "POST", "/api/chat", {}));
}

TEST(BuiltinCatalog, PrefixedMessagesNeedTheAnthropicHeader) {
  const ProviderCatalog catalog = ProviderCatalog::builtin();
  EXPECT_FALSE(catalog.match("chat.example", "POST", "/api/v1/messages", {}));
  const auto match = catalog.match("gw.example", "POST", "/anthropic/v1/messages",
                                   {{"anthropic-version", "2023-06-01"}});
  ASSERT_TRUE(match);
  EXPECT_EQ(match->provider, "anthropic-compatible");
}

TEST(BuiltinCatalog, QueryStringsFragmentsAndSlashesAreIgnored) {
  const ProviderCatalog catalog = ProviderCatalog::builtin();
  EXPECT_TRUE(catalog.match("api.openai.com", "POST", "/v1/chat/completions?x=1/2#frag", {}));
  EXPECT_TRUE(catalog.match("api.openai.com", "POST", "/v1//chat/completions/", {}));
  EXPECT_FALSE(catalog.match("api.openai.com", "POST", "/v1/chat?/completions", {}));
}

TEST(BuiltinCatalog, HostsAreCaseInsensitiveAndPortsAreHandled) {
  const ProviderCatalog catalog = ProviderCatalog::builtin();
  auto provider = [&](std::string_view host) {
    const auto match = catalog.match(host, "POST", "/v1/chat/completions", {});
    return match ? match->provider : std::string("none");
  };
  EXPECT_EQ(provider("API.OpenAI.com"), "openai");
  EXPECT_EQ(provider("api.openai.com:443"), "openai");
  EXPECT_EQ(provider("api.openai.com."), "openai");
  EXPECT_EQ(provider("Localhost:11434"), "ollama");
  EXPECT_EQ(provider("localhost:11435"), "openai-compatible");
  EXPECT_EQ(provider("[::1]:11434"), "ollama");
  EXPECT_EQ(provider(""), "openai-compatible");  // no Host header at all
  // A suffix pattern needs a label before the suffix.
  const auto bare =
      catalog.match("openai.azure.com", "POST", "/openai/deployments/d/chat/completions", {});
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->provider, "openai-compatible");
}

TEST(BuiltinCatalog, AbsoluteFormTargetsUseTheirAuthorityWithoutHost) {
  const ProviderCatalog catalog = ProviderCatalog::builtin();
  const auto match = catalog.match("", "POST", "https://api.anthropic.com/v1/messages?beta=1", {});
  ASSERT_TRUE(match);
  EXPECT_EQ(match->provider, "anthropic");
}

TEST(BuiltinCatalog, MethodsAreCompared) {
  const ProviderCatalog catalog = ProviderCatalog::builtin();
  EXPECT_TRUE(catalog.match("api.openai.com", "post", "/v1/chat/completions", {}));
  EXPECT_FALSE(catalog.match("api.openai.com", "PUT", "/v1/chat/completions", {}));
}

TEST(BuiltinCatalog, DetectsAuthStyle) {
  const ProviderCatalog catalog = ProviderCatalog::builtin();
  auto style = [&](std::string_view host, std::string_view target,
                   http::HeaderFields headers) {
    const auto match = catalog.match(host, "POST", target, headers);
    return match ? match->auth_style : std::string("no match");
  };
  EXPECT_EQ(style("api.openai.com", "/v1/responses", {{"Authorization", "Bearer sk-x"}}), "bearer");
  EXPECT_EQ(style("api.anthropic.com", "/v1/messages", {{"X-Api-Key", "k"}}), "x-api-key");
  EXPECT_EQ(style("r.openai.azure.com", "/openai/v1/responses", {{"api-key", "k"}}), "api-key");
  EXPECT_EQ(style("generativelanguage.googleapis.com", "/v1/models/g:generateContent",
                  {{"x-goog-api-key", "k"}}),
            "x-goog-api-key");
  EXPECT_EQ(style("bedrock-runtime.us-east-1.amazonaws.com", "/model/m/converse",
                  {{"authorization", "AWS4-HMAC-SHA256 Credential=AKIA/..."}}),
            "sigv4");
  EXPECT_EQ(
      style("generativelanguage.googleapis.com", "/v1/models/g:generateContent?alt=sse&key=k", {}),
      "query-key");
  EXPECT_EQ(style("api.openai.com", "/v1/responses?monkey=1", {}), "");
  // The first present wins, in the documented order.
  EXPECT_EQ(style("api.anthropic.com", "/v1/messages",
                  {{"x-api-key", "k"}, {"authorization", "Bearer t"}}),
            "bearer");
}

}  // namespace
}  // namespace llmtap::llm
