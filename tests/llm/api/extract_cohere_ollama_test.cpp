#include <gtest/gtest.h>

#include "api_test_helpers.h"

namespace llmtap::llm {
namespace {

using test::body;
using test::kWithText;
using test::stream;

TEST(CohereChat, PrefersTokensOverBilledUnits) {
  const ResponseFacts f = body(
      ApiFamily::kCohereChat,
      R"({"id":"c1","finish_reason":"COMPLETE","message":{"role":"assistant","content":[{"type":"text","text":"LLMs"}]},
          "usage":{"billed_units":{"input_tokens":5,"output_tokens":418},"tokens":{"input_tokens":71,"output_tokens":418}}})",
      200, kWithText);
  EXPECT_EQ(f.tokens.input, 71u);
  EXPECT_EQ(f.tokens.output, 418u);
  EXPECT_EQ(f.response_id, "c1");
  EXPECT_EQ(f.finish_reason, "COMPLETE");
  EXPECT_EQ(f.completion_text, "LLMs");
}

TEST(CohereChat, BilledUnitsWhenNoTokens) {
  const ResponseFacts f =
      body(ApiFamily::kCohereChat,
           R"({"usage":{"billed_units":{"input_tokens":5.0,"output_tokens":9}}})");
  EXPECT_EQ(f.tokens.input, 5u);
  EXPECT_EQ(f.tokens.output, 9u);
}

TEST(CohereChat, Stream) {
  const ResponseFacts f = stream(
      ApiFamily::kCohereChat,
      {{"message-start",
        R"({"id":"s1","type":"message-start","delta":{"message":{"role":"assistant"}}})"},
       {"content-delta",
        R"({"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hi"}}}})"},
       {"message-end",
        R"({"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":3,"output_tokens":9},"tokens":{"input_tokens":69,"output_tokens":9}}}})"}},
      kWithText);
  EXPECT_EQ(f.response_id, "s1");
  EXPECT_EQ(f.completion_text, "Hi");
  EXPECT_EQ(f.tokens.input, 69u);
  EXPECT_TRUE(f.saw_stream_end);
}

TEST(CohereChat, PlainErrorMessageOnFailureStatus) {
  const ResponseFacts f =
      body(ApiFamily::kCohereChat, R"({"id":"x","message":"invalid api token"})", 401);
  EXPECT_TRUE(f.error_type.empty());
  EXPECT_EQ(f.error_message, "invalid api token");
}

TEST(CohereEmbed, BilledInputTokens) {
  const ResponseFacts f = body(
      ApiFamily::kCohereEmbed,
      R"({"id":"e1","embeddings":{"float":[[0.1]]},"meta":{"api_version":{"version":"2"},"billed_units":{"input_tokens":2}}})");
  EXPECT_EQ(f.tokens.input, 2u);
}

TEST(Ollama, ChatBody) {
  const ResponseFacts f = body(
      ApiFamily::kOllamaChat,
      R"({"model":"llama3.2","message":{"role":"assistant","content":"Blue."},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":298})",
      200, kWithText);
  EXPECT_EQ(f.model, "llama3.2");
  EXPECT_EQ(f.tokens.input, 26u);
  EXPECT_EQ(f.tokens.output, 298u);
  EXPECT_EQ(f.tokens.total, 324u);
  EXPECT_EQ(f.finish_reason, "stop");
  EXPECT_EQ(f.completion_text, "Blue.");
}

TEST(Ollama, NdjsonStream) {
  const ResponseFacts f = stream(
      ApiFamily::kOllamaGenerate,
      {{"", R"({"model":"llama3.2","response":"Be","done":false})"},
       {"", R"({"model":"llama3.2","response":"cause","done":false})"},
       {"",
        R"({"model":"llama3.2","response":"","done":true,"done_reason":"stop","prompt_eval_count":29,"eval_count":3})"}},
      kWithText);
  EXPECT_EQ(f.completion_text, "Because");
  EXPECT_EQ(f.tokens.total, 32u);
  EXPECT_TRUE(f.saw_stream_end);
}

TEST(Ollama, StringError) {
  const ResponseFacts f = body(ApiFamily::kOllamaChat, R"({"error":"model \"x\" not found"})", 404);
  EXPECT_EQ(f.error_message, "model \"x\" not found");
}

TEST(Ollama, Embed) {
  const ResponseFacts f =
      body(ApiFamily::kOllamaEmbed,
           R"({"model":"all-minilm","embeddings":[[0.1]],"prompt_eval_count":16})");
  EXPECT_EQ(f.tokens.input, 16u);
  EXPECT_FALSE(f.tokens.output);
}

}  // namespace
}  // namespace llmtap::llm
