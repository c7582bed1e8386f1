#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "api_test_helpers.h"

namespace llmtap::llm {
namespace {

using test::kNoText;
using test::kWithText;

TEST(ExtractRequest, OpenAiChatKeys) {
  const RequestFacts f = extract_request(
      ApiFamily::kOpenAiChatCompletions,
      R"({"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"first"},
                      {"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"text","text":"second"},{"type":"image_url","image_url":{"url":"data:"}}]}],
          "model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}})",
      kWithText);
  EXPECT_TRUE(f.parsed);
  EXPECT_EQ(f.model, "gpt-4o-mini");
  EXPECT_EQ(f.stream, true);
  EXPECT_TRUE(f.include_usage);
  EXPECT_EQ(f.prompt_text, "second");
}

TEST(ExtractRequest, NoPromptWithoutCapture) {
  const RequestFacts f =
      extract_request(ApiFamily::kOpenAiChatCompletions,
                      R"({"model":"m","messages":[{"role":"user","content":"x"}]})", kNoText);
  EXPECT_FALSE(f.prompt_text.has_value());
  EXPECT_FALSE(f.stream.has_value());
  EXPECT_FALSE(f.include_usage);
}

TEST(ExtractRequest, OllamaStreamsByDefault) {
  EXPECT_EQ(
      extract_request(ApiFamily::kOllamaChat, R"({"model":"llama3.2","messages":[]})", kNoText)
          .stream,
      true);
  EXPECT_EQ(extract_request(ApiFamily::kOllamaGenerate, R"({"model":"l","stream":false})", kNoText)
                .stream,
            false);
  EXPECT_FALSE(extract_request(ApiFamily::kOllamaEmbed, R"({"model":"l"})", kNoText).stream);
  EXPECT_FALSE(
      extract_request(ApiFamily::kOpenAiChatCompletions, R"({"model":"l"})", kNoText).stream);
}

TEST(ExtractRequest, PromptShapesOfEachFamily) {
  const auto prompt = [](ApiFamily family, const char* json) {
    return extract_request(family, json, kWithText).prompt_text.value_or("<none>");
  };
  EXPECT_EQ(prompt(ApiFamily::kOpenAiCompletions, R"({"prompt":"Say this"})"), "Say this");
  EXPECT_EQ(prompt(ApiFamily::kOpenAiEmbeddings, R"({"input":["a","b"]})"), "a\nb");
  EXPECT_EQ(prompt(ApiFamily::kOpenAiResponses, R"({"input":"hi"})"), "hi");
  EXPECT_EQ(
      prompt(
          ApiFamily::kOpenAiResponses,
          R"({"input":[{"role":"user","content":[{"type":"input_text","text":"q1"}]},{"role":"assistant","content":"a"}]})"),
      "q1");
  EXPECT_EQ(
      prompt(
          ApiFamily::kAnthropicMessages,
          R"({"system":"s","messages":[{"role":"user","content":[{"type":"text","text":"hello"}]}]})"),
      "hello");
  EXPECT_EQ(prompt(ApiFamily::kGeminiGenerateContent,
                   R"({"contents":[{"parts":[{"text":"p1"},{"text":"p2"}]}]})"),
            "p1\np2");
  EXPECT_EQ(prompt(ApiFamily::kGeminiEmbedContent, R"({"content":{"parts":[{"text":"e"}]}})"), "e");
  EXPECT_EQ(prompt(ApiFamily::kBedrockInvoke, R"({"inputText":"titan"})"), "titan");
  EXPECT_EQ(prompt(ApiFamily::kBedrockConverse,
                   R"({"messages":[{"role":"user","content":[{"text":"conv"}]}]})"),
            "conv");
  EXPECT_EQ(prompt(ApiFamily::kCohereEmbed, R"({"texts":["t1","t2"]})"), "t1\nt2");
  EXPECT_EQ(prompt(ApiFamily::kOllamaGenerate, R"({"prompt":"why"})"), "why");
  EXPECT_EQ(prompt(ApiFamily::kOpenAiChatCompletions, R"({"model":"m"})"), "<none>");
}

TEST(ExtractRequest, PromptCutOnCharacterBoundary) {
  const std::string text = "a" + std::string(10, '\0') + "\xC3\xA9\xC3\xA9";
  ExtractOptions options{.capture_text = true, .max_text_bytes = 4};
  const RequestFacts f = extract_request(ApiFamily::kOpenAiCompletions,
                                         "{\"prompt\":\"ab\xC3\xA9\xC3\xA9\"}", options);
  EXPECT_EQ(f.prompt_text, "ab\xC3\xA9");
  options.max_text_bytes = 3;
  EXPECT_EQ(extract_request(ApiFamily::kOpenAiCompletions, "{\"prompt\":\"ab\xC3\xA9\"}", options)
                .prompt_text,
            "ab");
}

TEST(ExtractRequest, GeminiAndBedrockBodiesHaveNoModel) {
  EXPECT_EQ(extract_request(ApiFamily::kGeminiGenerateContent, R"({"contents":[]})", kNoText).model,
            "");
  EXPECT_EQ(extract_request(ApiFamily::kBedrockConverse, R"({"messages":[]})", kNoText).model, "");
}

TEST(ExtractRequest, WrongTypesAreIgnored) {
  const RequestFacts f = extract_request(
      ApiFamily::kOpenAiChatCompletions,
      R"({"model":42,"stream":"yes","stream_options":[1],"messages":"not a list"})", kWithText);
  EXPECT_TRUE(f.parsed);
  EXPECT_EQ(f.model, "");
  EXPECT_FALSE(f.stream);
  EXPECT_FALSE(f.include_usage);
}

TEST(ExtractRequest, NotAnObject) {
  for (const char* body : {"[1,2]", "\"text\"", "42", "null"}) {
    const RequestFacts f = extract_request(ApiFamily::kOpenAiChatCompletions, body, kNoText);
    EXPECT_FALSE(f.parsed) << body;
    EXPECT_FALSE(f.parse_error.empty()) << body;
  }
}

TEST(ExtractRequest, TruncatedBodyKeepsCompleteKeys) {
  // The capture limit cut this body inside the message history.
  const RequestFacts f = extract_request(
      ApiFamily::kOpenAiChatCompletions,
      R"({"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hel)", kWithText);
  EXPECT_TRUE(f.parsed);
  EXPECT_EQ(f.model, "gpt-4o");
  EXPECT_EQ(f.stream, true);
  EXPECT_NE(f.parse_error.find("cut short"), std::string::npos) << f.parse_error;
}

TEST(ExtractRequest, InvalidUtf8InPromptIsReplaced) {
  const RequestFacts f = extract_request(
      ApiFamily::kOpenAiChatCompletions,
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"bad \xFF\xFE byte\"}]}",
      kWithText);
  EXPECT_TRUE(f.parsed);
  EXPECT_EQ(f.model, "m");
  EXPECT_EQ(f.prompt_text, "bad \xEF\xBF\xBD\xEF\xBF\xBD byte");  // one per invalid byte
}

TEST(ExtractRequest, LoneSurrogateEscapeIsReplaced) {
  const RequestFacts f = extract_request(
      ApiFamily::kOpenAiChatCompletions,
      R"({"model":"m","messages":[{"role":"user","content":"cut emoji \ud83d"}]})", kWithText);
  EXPECT_TRUE(f.parsed);
  EXPECT_EQ(f.prompt_text, "cut emoji \xEF\xBF\xBD");
}

TEST(ExtractRequest, HugeBodyIsRead) {
  std::string body = R"({"messages":[)";
  for (int i = 0; i < 20000; ++i) {
    body += i ? "," : "";
    body +=
        R"({"role":"user","content":"Lorem ipsum dolor sit amet, consectetur adipiscing elit"})";
  }
  body += R"(],"model":"gpt-4o","stream":false})";
  ASSERT_GT(body.size(), 1'000'000u);
  const RequestFacts f = extract_request(ApiFamily::kOpenAiChatCompletions, body, kWithText);
  EXPECT_TRUE(f.parsed);
  EXPECT_EQ(f.model, "gpt-4o");
  EXPECT_EQ(f.stream, false);
  EXPECT_EQ(f.prompt_text, "Lorem ipsum dolor sit amet, consectetur adipiscing elit");
}

// A body read where it lies (its buffer has simdjson's padding past it) says exactly what a
// copied one says, whatever the padding holds: bytes that would close a string, a number or
// the object if they were read as JSON.
TEST(ExtractRequest, BodyReadInPlaceSaysWhatACopySays) {
  const std::vector<std::string> bodies = {
      R"({"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]})",
      R"({"model":"gpt-4o","stream_options":{"include_usage":true},"stream":true})",
      R"({"model":"gpt-4o","messages":[{"role":"user","content":"cut in the mid)",
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":12)",
      R"({"model":"m","temperature":0.)",
      R"({"model")",
      "[1,2]",
      "42",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"bad \xFF byte\"}]}",
      "not json at all",
  };
  for (const char fill : {'"', '}', '7', ' ', '\0', '\xFF'}) {
    for (const std::string& body : bodies) {
      for (const ExtractOptions& options : {kNoText, kWithText}) {
        std::string padded;
        padded.reserve(body.size() + 64);
        padded.assign(body);
        const size_t readable = padded.capacity();
        ASSERT_GE(readable, body.size() + 64);
        std::fill(padded.data() + padded.size(), padded.data() + readable, fill);
        const RequestFacts in_place =
            extract_request(ApiFamily::kOpenAiChatCompletions, padded, options, readable);
        const RequestFacts copied =
            extract_request(ApiFamily::kOpenAiChatCompletions, body, options);
        EXPECT_EQ(in_place.model, copied.model) << body;
        EXPECT_EQ(in_place.stream, copied.stream) << body;
        EXPECT_EQ(in_place.include_usage, copied.include_usage) << body;
        EXPECT_EQ(in_place.prompt_text, copied.prompt_text) << body;
        EXPECT_EQ(in_place.parsed, copied.parsed) << body;
        EXPECT_EQ(in_place.parse_error, copied.parse_error) << body;
      }
    }
  }
}

}  // namespace
}  // namespace llmtap::llm
