#include <gtest/gtest.h>

#include "api_test_helpers.h"
#include "corpus_wire.h"
#include "llm/api/base64.h"

namespace llmtap::llm {
namespace {

using test::body;
using test::kNoText;
using test::kWithText;
using test::stream;

TEST(BedrockInvoke, HeadersWinOverBody) {
  const ResponseFacts f = body(
      ApiFamily::kBedrockInvoke,
      R"({"type":"message","model":"claude-3-5-haiku-20241022","content":[],"usage":{"input_tokens":1,"output_tokens":2}})",
      200, kNoText,
      {{"X-Amzn-Bedrock-Input-Token-Count", "9"}, {"x-amzn-bedrock-output-token-count", "14"}});
  EXPECT_EQ(f.model, "claude-3-5-haiku-20241022");
  EXPECT_EQ(f.tokens.input, 9u);
  EXPECT_EQ(f.tokens.output, 14u);
  EXPECT_EQ(f.tokens.total, 23u);
}

TEST(BedrockInvoke, BadHeaderValueIgnored) {
  const ResponseFacts f =
      body(ApiFamily::kBedrockInvoke,
           R"({"generation":"x","prompt_token_count":3,"generation_token_count":4})", 200, kNoText,
           {{"x-amzn-bedrock-input-token-count", "12abc"}});
  EXPECT_EQ(f.tokens.input, 3u);
}

TEST(BedrockInvoke, Titan) {
  const ResponseFacts f = body(
      ApiFamily::kBedrockInvoke,
      R"({"inputTextTokenCount":15,"results":[{"tokenCount":21,"outputText":"hi","completionReason":"FINISH"}]})",
      200, kWithText);
  EXPECT_EQ(f.tokens.input, 15u);
  EXPECT_EQ(f.tokens.output, 21u);
  EXPECT_EQ(f.finish_reason, "FINISH");
  EXPECT_EQ(f.completion_text, "hi");
}

TEST(BedrockInvoke, Llama) {
  const ResponseFacts f = body(
      ApiFamily::kBedrockInvoke,
      R"({"generation":"ok","prompt_token_count":24,"generation_token_count":40,"stop_reason":"stop"})");
  EXPECT_EQ(f.tokens.total, 64u);
  EXPECT_EQ(f.finish_reason, "stop");
}

TEST(BedrockInvoke, NovaConverseShape) {
  const ResponseFacts f = body(
      ApiFamily::kBedrockInvoke,
      R"({"output":{"message":{"content":[{"text":"poem"}],"role":"assistant"}},"stopReason":"end_turn","usage":{"inputTokens":5,"outputTokens":9,"totalTokens":14,"cacheReadInputTokenCount":2}})",
      200, kWithText);
  EXPECT_EQ(f.tokens.total, 14u);
  EXPECT_EQ(f.tokens.cached, 2u);
  EXPECT_EQ(f.completion_text, "poem");
}

TEST(BedrockInvoke, MistralAndCohere) {
  EXPECT_EQ(body(ApiFamily::kBedrockInvoke, R"({"outputs":[{"text":"a","stop_reason":"length"}]})")
                .finish_reason,
            "length");
  EXPECT_EQ(body(ApiFamily::kBedrockInvoke,
                 R"({"generations":[{"text":"b","finish_reason":"COMPLETE"}],"id":"g1"})")
                .finish_reason,
            "COMPLETE");
}

TEST(BedrockInvoke, ErrorTypeFromHeader) {
  const ResponseFacts f =
      body(ApiFamily::kBedrockInvoke, R"({"message":"Malformed input"})", 400, kNoText,
           {{"x-amzn-ErrorType",
             "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"}});
  EXPECT_EQ(f.error_type, "ValidationException");
  EXPECT_EQ(f.error_message, "Malformed input");
}

TEST(BedrockInvoke, NonJsonBodyStillReadsHeaders) {
  const ResponseFacts f = body(ApiFamily::kBedrockInvoke, "<html>", 502, kNoText,
                               {{"x-amzn-bedrock-input-token-count", "1"}});
  EXPECT_FALSE(f.parsed);
  EXPECT_EQ(f.tokens.input, 1u);
}

std::pair<std::string, std::string> chunk(const std::string& json) {
  return {"chunk", R"({"bytes":")" + testing::base64_encode(json) + R"("})"};
}

TEST(BedrockInvokeStream, AnthropicChunksWithInvocationMetrics) {
  const ResponseFacts f = stream(
      ApiFamily::kBedrockInvokeStream,
      {chunk(
           R"({"type":"message_start","message":{"model":"claude-3-5-sonnet-20241022","usage":{"input_tokens":12,"output_tokens":1}}})"),
       chunk(
           R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})"),
       chunk(
           R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":8}})"),
       chunk(
           R"({"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":12,"outputTokenCount":8,"invocationLatency":702,"firstByteLatency":410}})")},
      kWithText);
  EXPECT_EQ(f.model, "claude-3-5-sonnet-20241022");
  EXPECT_EQ(f.tokens.input, 12u);
  EXPECT_EQ(f.tokens.output, 8u);
  EXPECT_EQ(f.completion_text, "Hi");
  EXPECT_TRUE(f.saw_stream_end);
  EXPECT_TRUE(f.parse_error.empty()) << f.parse_error;
}

TEST(BedrockInvokeStream, TitanChunks) {
  const ResponseFacts f = stream(
      ApiFamily::kBedrockInvokeStream,
      {chunk(
           R"({"outputText":"Hel","index":0,"totalOutputTextTokenCount":null,"completionReason":null,"inputTextTokenCount":7})"),
       chunk(
           R"({"outputText":"lo","index":0,"totalOutputTextTokenCount":3,"completionReason":"FINISH","amazon-bedrock-invocationMetrics":{"inputTokenCount":7,"outputTokenCount":3}})")},
      kWithText);
  EXPECT_EQ(f.completion_text, "Hello");
  EXPECT_EQ(f.tokens.output, 3u);
  EXPECT_EQ(f.finish_reason, "FINISH");
}

TEST(BedrockInvokeStream, BadBase64IsReportedNotFatal) {
  const ResponseFacts f =
      stream(ApiFamily::kBedrockInvokeStream, {{"chunk", R"({"bytes":"!!!not base64"})"}});
  EXPECT_FALSE(f.parse_error.empty());
}

TEST(BedrockInvokeStream, ExceptionEvent) {
  const ResponseFacts f = stream(ApiFamily::kBedrockInvokeStream,
                                 {{"!throttlingException", R"({"message":"Too many requests"})"}});
  EXPECT_EQ(f.error_type, "throttlingException");
  EXPECT_EQ(f.error_message, "Too many requests");
}

TEST(BedrockConverse, Body) {
  const ResponseFacts f = body(
      ApiFamily::kBedrockConverse,
      R"({"output":{"message":{"role":"assistant","content":[{"text":"A"},{"text":"B"}]}},"stopReason":"end_turn",
          "usage":{"inputTokens":14,"outputTokens":10,"totalTokens":2072,"cacheReadInputTokens":2048,"cacheWriteInputTokens":7},"metrics":{"latencyMs":1}})",
      200, kWithText);
  EXPECT_EQ(f.tokens.input, 14u);
  EXPECT_EQ(f.tokens.total, 2072u);
  EXPECT_EQ(f.tokens.cached, 2048u);
  EXPECT_EQ(f.tokens.cache_creation, 7u);
  EXPECT_EQ(f.finish_reason, "end_turn");
  EXPECT_EQ(f.completion_text, "AB");
}

TEST(BedrockConverseStream, TypedEvents) {
  const ResponseFacts f = stream(
      ApiFamily::kBedrockConverseStream,
      {{"messageStart", R"({"p":"abc","role":"assistant"})"},
       {"contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"a"})"},
       {"messageStop", R"({"stopReason":"end_turn"})"},
       {"metadata",
        R"({"usage":{"inputTokens":11,"outputTokens":4,"totalTokens":15},"metrics":{"latencyMs":540}})"}},
      kWithText);
  EXPECT_EQ(f.completion_text, "Hi");
  EXPECT_EQ(f.tokens.total, 15u);
  EXPECT_EQ(f.finish_reason, "end_turn");
  EXPECT_TRUE(f.saw_stream_end);
}

TEST(BedrockConverseStream, WrappedEventsWithoutType) {
  const ResponseFacts f =
      stream(ApiFamily::kBedrockConverseStream,
             {{"", R"({"contentBlockDelta":{"delta":{"text":"x"}}})"},
              {"", R"({"metadata":{"usage":{"inputTokens":1,"outputTokens":1}}})"},
              {"", R"({"throttlingException":{"message":"slow"}})"}},
             kWithText);
  EXPECT_EQ(f.completion_text, "x");
  EXPECT_EQ(f.tokens.total, 2u);
  EXPECT_EQ(f.error_type, "throttlingException");
}

TEST(Base64, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(base64_decode("aGk="), "hi");
  EXPECT_EQ(base64_decode("aGk"), "hi");
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_FALSE(base64_decode("a"));
  EXPECT_FALSE(base64_decode("a$==").has_value());
}

}  // namespace
}  // namespace llmtap::llm
