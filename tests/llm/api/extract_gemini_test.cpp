#include <gtest/gtest.h>

#include "api_test_helpers.h"

namespace llmtap::llm {
namespace {

using test::body;
using test::kWithText;
using test::stream;

constexpr const char* kGeminiBody = R"({
  "candidates":[{"content":{"parts":[{"text":"thinking...","thought":true},{"text":"AI learns."}],"role":"model"},
                 "finishReason":"STOP","index":0}],
  "usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":3,"totalTokenCount":661,
                   "cachedContentTokenCount":4,"thoughtsTokenCount":650},
  "modelVersion":"gemini-2.5-flash","responseId":"abc"})";

TEST(Gemini, GenerateContentBody) {
  const ResponseFacts f = body(ApiFamily::kGeminiGenerateContent, kGeminiBody, 200, kWithText);
  EXPECT_EQ(f.model, "gemini-2.5-flash");
  EXPECT_EQ(f.response_id, "abc");
  EXPECT_EQ(f.finish_reason, "STOP");
  EXPECT_EQ(f.tokens.input, 8u);
  EXPECT_EQ(f.tokens.output, 3u);
  EXPECT_EQ(f.tokens.total, 661u);
  EXPECT_EQ(f.tokens.cached, 4u);
  EXPECT_EQ(f.tokens.reasoning, 650u);
  EXPECT_EQ(f.completion_text, "AI learns.");  // thought parts left out
}

TEST(Gemini, StreamEndsWithFinishReason) {
  const ResponseFacts f = stream(
      ApiFamily::kGeminiStreamGenerateContent,
      {{"",
        R"({"candidates":[{"content":{"parts":[{"text":"A"}]}}],"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8},"modelVersion":"gemini-2.0-flash"})"},
       {"",
        R"({"candidates":[{"content":{"parts":[{"text":"B"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2,"totalTokenCount":10},"modelVersion":"gemini-2.0-flash"})"}},
      kWithText);
  EXPECT_TRUE(f.saw_stream_end);
  EXPECT_EQ(f.completion_text, "AB");
  EXPECT_EQ(f.tokens.total, 10u);
  EXPECT_EQ(f.tokens.output, 2u);
}

TEST(Gemini, WholeJsonArrayGivenAsBody) {
  const ResponseFacts f = body(ApiFamily::kGeminiStreamGenerateContent,
                               R"([{"candidates":[{"content":{"parts":[{"text":"A"}]}}]},
          {"candidates":[{"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1,"totalTokenCount":2}}])");
  EXPECT_TRUE(f.parsed);
  EXPECT_EQ(f.stream_events, 2u);
  EXPECT_TRUE(f.saw_stream_end);
  EXPECT_EQ(f.tokens.total, 2u);
}

TEST(Gemini, ErrorStatusIsTheType) {
  const ResponseFacts f =
      body(ApiFamily::kGeminiGenerateContent,
           R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}})", 429);
  EXPECT_EQ(f.error_type, "RESOURCE_EXHAUSTED");
  EXPECT_EQ(f.error_message, "quota");
}

TEST(Gemini, ErrorWithoutStatusUsesCode) {
  const ResponseFacts f = body(ApiFamily::kGeminiGenerateContent, R"({"error":{"code":500}})", 500);
  EXPECT_EQ(f.error_type, "500");
}

TEST(Gemini, BlockedPrompt) {
  const ResponseFacts f = body(
      ApiFamily::kGeminiGenerateContent,
      R"({"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":5,"totalTokenCount":5}})");
  EXPECT_EQ(f.finish_reason, "SAFETY");
  EXPECT_EQ(f.tokens.input, 5u);
}

TEST(Gemini, EmbedHasNoUsage) {
  const ResponseFacts f =
      body(ApiFamily::kGeminiEmbedContent, R"({"embedding":{"values":[0.1,0.2]}})");
  EXPECT_TRUE(f.parsed);
  EXPECT_FALSE(f.tokens.input);
}

}  // namespace
}  // namespace llmtap::llm
