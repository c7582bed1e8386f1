// Every corpus case through the extractors: the request body, then the response body or its
// events (built straight from the case file; the de-framers have their own tests), checked
// against the case's expectations.
#include <gtest/gtest.h>

#include <set>

#include "corpus_wire.h"
#include "llm/api/extract.h"

namespace llmtap::llm {
namespace {

using testing::CorpusCase;

const std::filesystem::path kCorpus = LLMTAP_CORPUS_DIR;

const std::set<std::string> kProviders = {"openai",
                                          "azure-openai",
                                          "anthropic",
                                          "gemini",
                                          "vertex-ai",
                                          "bedrock",
                                          "deepseek",
                                          "mistral",
                                          "groq",
                                          "together",
                                          "fireworks",
                                          "openrouter",
                                          "xai",
                                          "perplexity",
                                          "cohere",
                                          "huggingface",
                                          "ollama",
                                          "openai-compatible",
                                          "anthropic-compatible",
                                          "ollama-compatible"};

// Families whose request body never names the model (the path does).
bool model_in_path(ApiFamily family) {
  switch (family) {
    case ApiFamily::kGeminiGenerateContent:
    case ApiFamily::kGeminiStreamGenerateContent:
    case ApiFamily::kGeminiEmbedContent:
    case ApiFamily::kBedrockInvoke:
    case ApiFamily::kBedrockInvokeStream:
    case ApiFamily::kBedrockConverse:
    case ApiFamily::kBedrockConverseStream:
      return true;
    default:
      return false;
  }
}

bool streams_by_path(ApiFamily family) {
  return family == ApiFamily::kGeminiStreamGenerateContent ||
         family == ApiFamily::kBedrockInvokeStream || family == ApiFamily::kBedrockConverseStream;
}

http::HeaderFields response_headers(const CorpusCase& c) {
  http::HeaderFields headers;
  const nlohmann::json listed = c.raw["response"].value("headers", nlohmann::json::object());
  for (const auto& [name, value] : listed.items()) {
    headers.add(name, value.get<std::string>());
  }
  return headers;
}

class CorpusCaseTest : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(CorpusCaseTest, ExtractorsMatchExpectations) {
  const CorpusCase c = testing::load_corpus_case(GetParam());
  SCOPED_TRACE(c.name);
  EXPECT_TRUE(kProviders.contains(c.expect.provider)) << c.expect.provider;
  const std::optional<ApiFamily> family = api_family_from_string(c.expect.api);
  ASSERT_TRUE(family) << c.expect.api;
  const ExtractOptions options{.capture_text = true, .max_text_bytes = 256};

  const RequestFacts request = extract_request(*family, c.request_body, options);
  EXPECT_TRUE(request.parsed) << request.parse_error;
  EXPECT_TRUE(request.parse_error.empty()) << request.parse_error;
  if (request.model.empty()) {
    // Only path-named models (Gemini, Bedrock, Azure deployments) may be missing.
    EXPECT_TRUE(model_in_path(*family) || c.expect.provider == "azure-openai");
  } else if (!model_in_path(*family)) {
    EXPECT_EQ(request.model, c.expect.request_model);
  }
  EXPECT_EQ(streams_by_path(*family) || request.stream.value_or(false), c.expect.stream);

  const ResponseFacts response =
      c.stream_events.empty() ? extract_response(*family, c.expect.status, response_headers(c),
                                                 c.response_body_unencoded, options)
                              : extract_stream(*family, c.stream_events, options);
  EXPECT_TRUE(response.parsed) << response.parse_error;
  EXPECT_TRUE(response.parse_error.empty()) << response.parse_error;
  EXPECT_EQ(response.model, c.expect.response_model);
  EXPECT_EQ(response.tokens.input, c.expect.input_tokens);
  EXPECT_EQ(response.tokens.output, c.expect.output_tokens);
  EXPECT_EQ(response.tokens.total, c.expect.total_tokens);
  EXPECT_EQ(response.tokens.cached, c.expect.cached_tokens);
  EXPECT_EQ(response.tokens.reasoning, c.expect.reasoning_tokens);
  // The record falls back to "http_<status>" when the body names no error type.
  std::optional<std::string> error_type;
  if (!response.error_type.empty()) {
    error_type = response.error_type;
  } else if (c.expect.status >= 400) {
    error_type = "http_" + std::to_string(c.expect.status);
  }
  EXPECT_EQ(error_type, c.expect.error_type);
  if (c.expect.status < 400 && !c.expect.error_type) {
    if (!c.stream_events.empty()) {
      EXPECT_TRUE(response.saw_stream_end);
    }
    const bool embeds = c.expect.api.ends_with("embed") || c.expect.api.ends_with("embeddings") ||
                        c.expect.api.ends_with("embed_content");
    EXPECT_EQ(response.completion_text.has_value(), !embeds);
  }
}

std::string case_name(const ::testing::TestParamInfo<std::filesystem::path>& info) {
  std::string name =
      info.param.parent_path().filename().string() + "_" + info.param.stem().string();
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, CorpusCaseTest,
                         ::testing::ValuesIn(testing::corpus_case_files(kCorpus)), case_name);

TEST(Corpus, CoversEveryApiFamily) {
  std::set<std::string> apis;
  for (const auto& file : testing::corpus_case_files(kCorpus)) {
    apis.insert(testing::load_corpus_case(file).expect.api);
  }
  for (int i = 0; i <= static_cast<int>(ApiFamily::kOllamaEmbed); ++i) {
    EXPECT_TRUE(apis.contains(std::string(to_string(static_cast<ApiFamily>(i)))))
        << to_string(static_cast<ApiFamily>(i));
  }
}

}  // namespace
}  // namespace llmtap::llm
