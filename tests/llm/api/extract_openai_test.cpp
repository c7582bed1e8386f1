#include <gtest/gtest.h>

#include "api_test_helpers.h"

namespace llmtap::llm {
namespace {

using test::body;
using test::kWithText;
using test::stream;

TEST(OpenAiChat, ReadsBodyUsageAndDetails) {
  const ResponseFacts f = body(ApiFamily::kOpenAiChatCompletions, R"({
    "id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-2024-08-06",
    "choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],
    "usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30,
             "prompt_tokens_details":{"cached_tokens":4},
             "completion_tokens_details":{"reasoning_tokens":8}}})",
                               200, kWithText);
  EXPECT_TRUE(f.parsed);
  EXPECT_EQ(f.model, "gpt-4o-2024-08-06");
  EXPECT_EQ(f.response_id, "chatcmpl-1");
  EXPECT_EQ(f.finish_reason, "stop");
  EXPECT_EQ(f.tokens.input, 10u);
  EXPECT_EQ(f.tokens.output, 20u);
  EXPECT_EQ(f.tokens.total, 30u);
  EXPECT_EQ(f.tokens.cached, 4u);
  EXPECT_EQ(f.tokens.reasoning, 8u);
  EXPECT_EQ(f.completion_text, "Hi");
  EXPECT_TRUE(f.error_type.empty());
}

TEST(OpenAiChat, NoTextWithoutCapture) {
  const ResponseFacts f = body(ApiFamily::kOpenAiChatCompletions,
                               R"({"choices":[{"index":0,"message":{"content":"secret"}}]})");
  EXPECT_FALSE(f.completion_text.has_value());
}

TEST(OpenAiChat, MissingUsageLeavesTokensUnset) {
  const ResponseFacts f = body(ApiFamily::kOpenAiChatCompletions, R"({"model":"m","choices":[]})");
  EXPECT_TRUE(f.parsed);
  EXPECT_FALSE(f.tokens.input);
  EXPECT_FALSE(f.tokens.output);
  EXPECT_FALSE(f.tokens.total);
}

TEST(OpenAiChat, TotalDerivedWhenNotGiven) {
  const ResponseFacts f = body(ApiFamily::kOpenAiChatCompletions,
                               R"({"usage":{"prompt_tokens":3,"completion_tokens":4}})");
  EXPECT_EQ(f.tokens.total, 7u);
}

TEST(OpenAiChat, StreamWithIncludeUsage) {
  const ResponseFacts f = stream(
      ApiFamily::kOpenAiChatCompletions,
      {{"",
        R"({"id":"c1","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""}}],"usage":null})"},
       {"",
        R"({"id":"c1","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hel"}}]})"},
       {"",
        R"({"id":"c1","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]})"},
       {"",
        R"({"id":"c1","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})"},
       {"", "[DONE]"}},
      kWithText);
  EXPECT_EQ(f.stream_events, 5u);
  EXPECT_TRUE(f.saw_stream_end);
  EXPECT_EQ(f.completion_text, "Hello");
  EXPECT_EQ(f.finish_reason, "stop");
  EXPECT_EQ(f.tokens.input, 5u);
  EXPECT_EQ(f.tokens.total, 7u);
}

TEST(OpenAiChat, StreamWithoutDoneIsNotEnded) {
  const ResponseFacts f = stream(ApiFamily::kOpenAiChatCompletions,
                                 {{"", R"({"choices":[{"index":0,"delta":{"content":"x"}}]})"}});
  EXPECT_FALSE(f.saw_stream_end);
  EXPECT_TRUE(f.parsed);
}

TEST(OpenAiChat, ErrorObjectPrefersStringCode) {
  const ResponseFacts f = body(
      ApiFamily::kOpenAiChatCompletions,
      R"({"error":{"message":"Incorrect API key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})",
      401);
  EXPECT_EQ(f.error_type, "invalid_api_key");
  EXPECT_EQ(f.error_message, "Incorrect API key");
}

TEST(OpenAiChat, ErrorObjectWithNullCodeUsesType) {
  const ResponseFacts f =
      body(ApiFamily::kOpenAiChatCompletions,
           R"({"error":{"message":"m","type":"server_error","code":null}})", 500);
  EXPECT_EQ(f.error_type, "server_error");
}

TEST(OpenAiChat, ErrorAsPlainString) {
  const ResponseFacts f =
      body(ApiFamily::kOpenAiChatCompletions, R"({"error":"Loading model"})", 503);
  EXPECT_TRUE(f.error_type.empty());
  EXPECT_EQ(f.error_message, "Loading model");
}

TEST(OpenAiChat, VllmTopLevelError) {
  const ResponseFacts f = body(
      ApiFamily::kOpenAiChatCompletions,
      R"({"object":"error","message":"too long","type":"BadRequestError","param":null,"code":400})",
      400);
  EXPECT_EQ(f.error_type, "BadRequestError");
  EXPECT_EQ(f.error_message, "too long");
}

TEST(OpenAiChat, ErrorInsideStream) {
  const ResponseFacts f =
      stream(ApiFamily::kOpenAiChatCompletions,
             {{"", R"({"error":{"message":"overloaded","type":"server_error","code":null}})"}});
  EXPECT_EQ(f.error_type, "server_error");
}

TEST(OpenAiChat, LongErrorMessageIsCut) {
  const std::string json = R"({"error":{"type":"t","message":")" + std::string(2000, 'x') + "\"}}";
  const ResponseFacts f = body(ApiFamily::kOpenAiChatCompletions, json, 400);
  EXPECT_EQ(f.error_message.size(), 512u);
}

TEST(OpenAiChat, DeepSeekCacheHitsAreCached) {
  const ResponseFacts f = body(
      ApiFamily::kOpenAiChatCompletions,
      R"({"usage":{"prompt_tokens":140,"completion_tokens":6,"total_tokens":146,"prompt_cache_hit_tokens":128,"prompt_cache_miss_tokens":12}})");
  EXPECT_EQ(f.tokens.cached, 128u);
}

TEST(OpenAiChat, GroqUsageInXGroq) {
  const ResponseFacts f = stream(
      ApiFamily::kOpenAiChatCompletions,
      {{"",
        R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"r","usage":{"prompt_tokens":42,"completion_tokens":3,"total_tokens":45}}})"},
       {"", "[DONE]"}});
  EXPECT_EQ(f.tokens.input, 42u);
  EXPECT_EQ(f.tokens.output, 3u);
}

TEST(OpenAiChat, SecondChoiceDoesNotMixIntoText) {
  const ResponseFacts f = stream(ApiFamily::kOpenAiChatCompletions,
                                 {{"", R"({"choices":[{"index":1,"delta":{"content":"B"}}]})"},
                                  {"", R"({"choices":[{"index":0,"delta":{"content":"A"}}]})"}},
                                 kWithText);
  EXPECT_EQ(f.completion_text, "A");
}

TEST(OpenAiCompletions, LegacyText) {
  const ResponseFacts f = body(
      ApiFamily::kOpenAiCompletions,
      R"({"model":"gpt-3.5-turbo-instruct","choices":[{"text":"\n\nThis is a test","index":0,"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}})",
      200, kWithText);
  EXPECT_EQ(f.completion_text, "\n\nThis is a test");
  EXPECT_EQ(f.finish_reason, "length");
  EXPECT_EQ(f.tokens.output, 7u);
}

TEST(OpenAiEmbeddings, PromptTokensOnly) {
  const ResponseFacts f = body(
      ApiFamily::kOpenAiEmbeddings,
      R"({"object":"list","data":[],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}})");
  EXPECT_EQ(f.tokens.input, 8u);
  EXPECT_EQ(f.tokens.total, 8u);
  EXPECT_FALSE(f.tokens.output);
}

TEST(OpenAiResponses, BodyUsageDetailsAndText) {
  const ResponseFacts f = body(ApiFamily::kOpenAiResponses, R"({
    "id":"resp_1","object":"response","status":"completed","error":null,"incomplete_details":null,
    "model":"o4-mini-2025-04-16",
    "output":[{"type":"reasoning","id":"rs","summary":[]},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hi"}]}],
    "usage":{"input_tokens":100,"input_tokens_details":{"cached_tokens":64},"output_tokens":50,
             "output_tokens_details":{"reasoning_tokens":32},"total_tokens":150}})",
                               200, kWithText);
  EXPECT_TRUE(f.error_type.empty());
  EXPECT_EQ(f.model, "o4-mini-2025-04-16");
  EXPECT_EQ(f.finish_reason, "completed");
  EXPECT_EQ(f.tokens.cached, 64u);
  EXPECT_EQ(f.tokens.reasoning, 32u);
  EXPECT_EQ(f.tokens.total, 150u);
  EXPECT_EQ(f.completion_text, "Hi");
}

TEST(OpenAiResponses, IncompleteReason) {
  const ResponseFacts f =
      body(ApiFamily::kOpenAiResponses,
           R"({"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}})");
  EXPECT_EQ(f.finish_reason, "max_output_tokens");
}

TEST(OpenAiResponses, StreamEvents) {
  const ResponseFacts f = stream(
      ApiFamily::kOpenAiResponses,
      {{"response.created",
        R"({"type":"response.created","response":{"id":"r1","model":"gpt-4.1","status":"in_progress","usage":null}})"},
       {"response.output_text.delta", R"({"type":"response.output_text.delta","delta":"Hi"})"},
       {"response.output_text.delta", R"({"type":"response.output_text.delta","delta":"!"})"},
       {"response.completed",
        R"({"type":"response.completed","response":{"id":"r1","model":"gpt-4.1-2025-04-14","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"Hi!"}]}],"usage":{"input_tokens":7,"output_tokens":2,"total_tokens":9}}})"}},
      kWithText);
  EXPECT_TRUE(f.saw_stream_end);
  EXPECT_EQ(f.model, "gpt-4.1-2025-04-14");
  EXPECT_EQ(f.response_id, "r1");
  EXPECT_EQ(f.completion_text, "Hi!");  // deltas only, not repeated from response.completed
  EXPECT_EQ(f.tokens.total, 9u);
}

TEST(OpenAiResponses, TypeFromDataWhenEventNameMissing) {
  const ResponseFacts f =
      stream(ApiFamily::kOpenAiResponses,
             {{"", R"({"type":"error","code":"rate_limit_exceeded","message":"slow down"})"}});
  EXPECT_EQ(f.error_type, "rate_limit_exceeded");
  EXPECT_EQ(f.error_message, "slow down");
}

TEST(OpenAiResponses, FailedEvent) {
  const ResponseFacts f = stream(
      ApiFamily::kOpenAiResponses,
      {{"response.failed",
        R"({"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"boom"}}})"}});
  EXPECT_EQ(f.error_type, "server_error");
  EXPECT_TRUE(f.saw_stream_end);
}

}  // namespace
}  // namespace llmtap::llm
