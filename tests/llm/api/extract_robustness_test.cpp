// Every family against inputs that are not what it expects: nothing may throw or crash, and
// failures must be reported in the result.
#include <gtest/gtest.h>

#include "api_test_helpers.h"
#include "llm/api/utf8_text.h"

namespace llmtap::llm {
namespace {

using test::body;
using test::kWithText;
using test::stream;

std::vector<ApiFamily> all_families() {
  std::vector<ApiFamily> families;
  for (int i = 0; i <= static_cast<int>(ApiFamily::kOllamaEmbed); ++i) {
    families.push_back(static_cast<ApiFamily>(i));
  }
  return families;
}

bool valid_utf8(const std::string& text) { return to_valid_utf8(text) == text; }

TEST(ExtractRobustness, BrokenInputsAreReportedNotThrown) {
  const std::vector<std::string> inputs = {
      "",
      "{",
      "}",
      "[",
      "nul",
      "{\"a\":",
      "{\"usage\":{\"prompt_tokens\":",
      "\xFF\xFE\xFD",
      std::string(3, '\0'),
      "{\"model\":\"x\"} trailing",
      "<html><body>502</body></html>",
      std::string(100000, '['),
      "{\"a\":\"\\u12\"}",
      "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"\\ud800\"}}]}"};
  for (ApiFamily family : all_families()) {
    for (const std::string& input : inputs) {
      const RequestFacts request = extract_request(family, input, kWithText);
      if (!request.parsed) {
        EXPECT_FALSE(request.parse_error.empty());
      }
      if (request.prompt_text) {
        EXPECT_TRUE(valid_utf8(*request.prompt_text));
      }
      const ResponseFacts response = body(family, input, 500, kWithText);
      if (!response.parsed) {
        EXPECT_FALSE(response.parse_error.empty());
      }
      EXPECT_TRUE(valid_utf8(response.error_message));
      if (response.completion_text) {
        EXPECT_TRUE(valid_utf8(*response.completion_text));
      }
      const ResponseFacts streamed = stream(family, {{"", input}, {"x", input}}, kWithText);
      EXPECT_EQ(streamed.stream_events, 2u);
    }
  }
}

TEST(ExtractRobustness, EmptyStreamIsNotParsed) {
  const ResponseFacts f = extract_stream(ApiFamily::kAnthropicMessages, {}, kWithText);
  EXPECT_FALSE(f.parsed);
  EXPECT_EQ(f.stream_events, 0u);
}

TEST(ExtractRobustness, BadEventDoesNotHideGoodOnes) {
  const ResponseFacts f = stream(ApiFamily::kOpenAiChatCompletions,
                                 {{"", "{broken"},
                                  {"", R"({"usage":{"prompt_tokens":1,"completion_tokens":2}})"},
                                  {"", "[DONE]"}});
  EXPECT_TRUE(f.parsed);
  EXPECT_EQ(f.tokens.total, 3u);
  EXPECT_EQ(f.parse_error.rfind("event 1", 0), 0u) << f.parse_error;
}

TEST(ExtractRobustness, WrongTypesAndHugeNumbers) {
  const ResponseFacts f = body(
      ApiFamily::kOpenAiChatCompletions,
      R"({"model":7,"id":[],"usage":{"prompt_tokens":-5,"completion_tokens":1e300,"total_tokens":"12",
          "prompt_tokens_details":{"cached_tokens":18446744073709551615},
          "completion_tokens_details":{"reasoning_tokens":3.5}},"choices":{"0":1}})");
  EXPECT_TRUE(f.parsed);
  EXPECT_EQ(f.model, "");
  EXPECT_FALSE(f.tokens.input);
  EXPECT_FALSE(f.tokens.output);
  EXPECT_FALSE(f.tokens.total);
  EXPECT_EQ(f.tokens.cached, 18446744073709551615u);
  EXPECT_FALSE(f.tokens.reasoning);
}

TEST(ExtractRobustness, IntegralDoublesAreCounts) {
  const ResponseFacts f = body(ApiFamily::kOpenAiChatCompletions,
                               R"({"usage":{"prompt_tokens":12.0,"completion_tokens":0}})");
  EXPECT_EQ(f.tokens.input, 12u);
  EXPECT_EQ(f.tokens.output, 0u);
  EXPECT_EQ(f.tokens.total, 12u);
}

TEST(ExtractRobustness, NumberTooBigForAnyTypeFailsTheDocument) {
  // simdjson rejects integers beyond 64 bits outright; the failure is reported.
  const ResponseFacts f = body(ApiFamily::kOpenAiChatCompletions,
                               R"({"usage":{"prompt_tokens":123456789012345678901234567890}})");
  EXPECT_FALSE(f.parsed);
  EXPECT_FALSE(f.parse_error.empty());
}

TEST(ExtractRobustness, TruncatedResponseBodyIsSalvaged) {
  const ResponseFacts f = body(
      ApiFamily::kAnthropicMessages,
      R"({"id":"msg_1","model":"claude-3-5-haiku-20241022","usage":{"input_tokens":5,"output_tokens":7},"content":[{"type":"text","text":"long answer cut)");
  EXPECT_TRUE(f.parsed);
  EXPECT_EQ(f.model, "claude-3-5-haiku-20241022");
  EXPECT_EQ(f.tokens.output, 7u);
  EXPECT_FALSE(f.parse_error.empty());
}

TEST(ExtractRobustness, InvalidUtf8CompletionTextIsValid) {
  const ResponseFacts f =
      body(ApiFamily::kOllamaGenerate, "{\"response\":\"ok \xC3\x28 \xF0\x9F\x98\",\"done\":true}",
           200, kWithText);
  EXPECT_TRUE(f.parsed);
  ASSERT_TRUE(f.completion_text);
  EXPECT_TRUE(valid_utf8(*f.completion_text));
  EXPECT_TRUE(f.saw_stream_end);
}

TEST(ExtractRobustness, CompletionTextCutAtLimitOnBoundary) {
  ExtractOptions options{.capture_text = true, .max_text_bytes = 5};
  std::vector<StreamEvent> events;
  for (int i = 0; i < 1000; ++i) {
    events.push_back({.type = "", .data = "{\"response\":\"\xC3\xA9\xC3\xA9\"}"});  // "éé"
  }
  const ResponseFacts f = extract_stream(ApiFamily::kOllamaGenerate, events, options);
  EXPECT_EQ(f.completion_text, "\xC3\xA9\xC3\xA9");
  EXPECT_EQ(f.stream_events, 1000u);
}

TEST(ExtractRobustness, DeeplyNestedJson) {
  const std::string deep = std::string(5000, '[') + std::string(5000, ']');
  const ResponseFacts f = body(ApiFamily::kOpenAiChatCompletions, deep);
  EXPECT_FALSE(f.parsed);
}

}  // namespace
}  // namespace llmtap::llm
