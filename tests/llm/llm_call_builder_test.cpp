#include "llm/llm_call_builder.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace llmtap::llm {
namespace {

http::HttpExchange exchange(std::string target, std::string host, std::string body) {
  http::HttpExchange e;
  e.request.is_request = true;
  e.request.method = "POST";
  e.request.target = std::move(target);
  if (!host.empty()) e.request.headers.add("Host", host);
  e.request.body = std::move(body);
  e.request.body_bytes = e.request.body.size();
  e.request_first_ns = 1000;
  e.request_last_ns = 5000;
  e.request_wire_bytes = 300;
  return e;
}

void answer(http::HttpExchange& e, int status, std::string content_type, std::string body) {
  e.has_response = true;
  e.response.status = status;
  e.response.headers.add("Content-Type", content_type);
  e.response.body = std::move(body);
  e.response.body_bytes = e.response.body.size();
  e.response_first_ns = 9000;
  e.response_last_ns = 20000;
}

CatalogMatch match(ApiFamily family, std::string provider = "openai") {
  CatalogMatch m;
  m.provider = std::move(provider);
  m.family = family;
  return m;
}

TEST(LlmCallBuilder, TimesAndSizesComeFromTheExchange) {
  auto e = exchange("/v1/chat/completions", "API.OpenAI.com:443", R"({"model":"gpt-4o"})");
  answer(e, 200, "application/json",
         R"({"model":"gpt-4o-2024-08-06","usage":{"prompt_tokens":3,"completion_tokens":4}})");
  LlmCallBuilder builder;
  const LlmCall call = builder.build(e, match(ApiFamily::kOpenAiChatCompletions));
  EXPECT_EQ(call.server_name, "api.openai.com");
  EXPECT_EQ(call.ttfb_ns, 8000u);
  EXPECT_EQ(call.latency_ns, 19000u);
  EXPECT_EQ(call.request_model, "gpt-4o");
  EXPECT_EQ(call.response_model, "gpt-4o-2024-08-06");
  EXPECT_EQ(call.tokens.total, 7u);
  EXPECT_EQ(call.request_bytes, 300u);
  EXPECT_EQ(call.error_type, "");
}

TEST(LlmCallBuilder, NoResponseHasNoLatencyAndSaysWhy) {
  auto e = exchange("/v1/chat/completions", "api.openai.com", R"({"model":"gpt-4o"})");
  LlmCallBuilder builder;
  const LlmCall call = builder.build(e, match(ApiFamily::kOpenAiChatCompletions));
  EXPECT_EQ(call.status, 0);
  EXPECT_EQ(call.latency_ns, 0u);
  EXPECT_EQ(call.ttfb_ns, 0u);
  EXPECT_EQ(call.error_type, "no_response");
  e.response_incomplete = true;
  EXPECT_EQ(builder.build(e, match(ApiFamily::kOpenAiChatCompletions)).error_type, "incomplete");
}

TEST(LlmCallBuilder, AbsoluteFormTargetsKeepNeitherQueryNorUserinfo) {
  auto e = exchange("https://user:pw@api.openai.com/v1/chat/completions?key=SECRET", "",
                    R"({"model":"gpt-4o"})");
  LlmCallBuilder builder;
  const LlmCall call = builder.build(e, match(ApiFamily::kOpenAiChatCompletions));
  EXPECT_EQ(call.path, "/v1/chat/completions");
  EXPECT_EQ(call.server_name, "api.openai.com");
}

TEST(LlmCallBuilder, ThePathNamesTheModelWhereItRoutesTheCall) {
  auto e = exchange("/v1beta/models/text-embedding-004:embedContent?key=SECRET",
                    "generativelanguage.googleapis.com",
                    R"({"model":"models/text-embedding-004","content":{"parts":[{"text":"x"}]}})");
  answer(e, 200, "application/json", R"({"embedding":{"values":[0.1]}})");
  CatalogMatch m = match(ApiFamily::kGeminiEmbedContent, "gemini");
  m.model_from_path = "text-embedding-004";
  LlmCallBuilder builder;
  const LlmCall call = builder.build(e, m);
  EXPECT_EQ(call.request_model, "text-embedding-004");
  EXPECT_EQ(call.path, "/v1beta/models/text-embedding-004:embedContent");
}

TEST(LlmCallBuilder, AnErrorStatusWithoutAProviderErrorIsNamedByItsStatus) {
  auto e = exchange("/v1/chat/completions", "api.openai.com", R"({"model":"gpt-4o"})");
  answer(e, 502, "text/html", "<html>Bad gateway</html>");
  LlmCallBuilder builder;
  const LlmCall call = builder.build(e, match(ApiFamily::kOpenAiChatCompletions));
  EXPECT_EQ(call.status, 502);
  EXPECT_EQ(call.error_type, "http_502");
}

TEST(LlmCallBuilder, KeysEchoedInErrorsAndPromptsAreRedacted) {
  auto e = exchange(
      "/v1/chat/completions", "llm-proxy.internal",
      R"({"model":"gpt-4o","messages":[{"role":"user","content":"use sk-proj-abcdefghijklmnop please"}]})");
  answer(
      e, 401, "application/json",
      R"({"error":{"type":"invalid_request_error","code":"invalid_api_key","message":"Bad key: Bearer sk-live-0123456789abcdef"}})");
  ExtractOptions options;
  options.capture_text = true;
  LlmCallBuilder builder(options);
  const LlmCall call =
      builder.build(e, match(ApiFamily::kOpenAiChatCompletions, "openai-compatible"));
  EXPECT_EQ(call.error_message.find("0123456789abcdef"), std::string::npos) << call.error_message;
  EXPECT_NE(call.error_message.find("[REDACTED]"), std::string::npos) << call.error_message;
  ASSERT_TRUE(call.prompt_text.has_value());
  EXPECT_EQ(*call.prompt_text, "use [REDACTED] please");
}

TEST(LlmCallBuilder, AStreamedResponseIsDecodedByItsContentType) {
  auto e = exchange("/v1/chat/completions", "api.openai.com",
                    R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}})");
  answer(e, 200, "text/event-stream; charset=utf-8",
         "data: {\"model\":\"gpt-4o-x\",\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n"
         "data: {\"model\":\"gpt-4o-x\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,"
         "\"completion_tokens\":1,\"total_tokens\":6}}\n\ndata: [DONE]\n\n");
  LlmCallBuilder builder;
  const LlmCall call = builder.build(e, match(ApiFamily::kOpenAiChatCompletions));
  EXPECT_TRUE(call.stream);
  EXPECT_EQ(call.response_model, "gpt-4o-x");
  EXPECT_EQ(call.tokens.input, 5u);
  EXPECT_EQ(call.tokens.output, 1u);
  EXPECT_EQ(call.stream_events, 3u);
  EXPECT_EQ(builder.stats().streams_without_end, 0u);
}

}  // namespace

// What a call says that comes from its bodies.
std::string body_facts(const LlmCall& c) {
  return c.request_model + "|" + c.response_model + "|" + std::to_string(c.tokens.input.value_or(0)) +
         "|" + std::to_string(c.tokens.output.value_or(0)) + "|" + c.error_type + "|" +
         c.error_message + "|" + c.finish_reason + "|" + c.response_id + "|" +
         c.prompt_text.value_or("-") + "|" + c.completion_text.value_or("-") + "|" +
         (c.stream ? "s" : "");
}

TEST(LlmCallBuilder, TheOtherEndOfACallReusesTheExtractionOfItsBodies) {
  auto client = exchange("/v1/chat/completions", "api.openai.com",
                         R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})");
  answer(client, 200, "application/json",
         R"({"id":"c-1","model":"gpt-4o-2024-08-06","choices":[{"message":{"content":"yo"},)"
         R"("finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4}})");
  http::HttpExchange served = client;  // the same bytes, read by the server's end
  served.request_first_ns = 1100;
  ExtractOptions options;
  options.capture_text = true;
  LlmCallBuilder builder(options);
  const LlmCall a = builder.build(client, match(ApiFamily::kOpenAiChatCompletions));
  EXPECT_EQ(builder.extraction_memo_hits(), 0u);
  const LlmCall b = builder.build(served, match(ApiFamily::kOpenAiChatCompletions));
  EXPECT_EQ(builder.extraction_memo_hits(), 2u);  // request and response
  EXPECT_EQ(body_facts(a), body_facts(b));
  EXPECT_EQ(b.response_id, "c-1");
  EXPECT_EQ(b.completion_text, "yo");
  EXPECT_EQ(b.tokens.total, 7u);
}

TEST(LlmCallBuilder, OnlyAnEqualBodyOfTheSameFamilyAndStatusIsReused) {
  LlmCallBuilder builder;
  auto first = exchange("/v1/chat/completions", "api.openai.com", R"({"model":"gpt-4o"})");
  answer(first, 200, "application/json", R"({"model":"m-1","usage":{"prompt_tokens":1}})");
  (void)builder.build(first, match(ApiFamily::kOpenAiChatCompletions));
  auto other = exchange("/v1/chat/completions", "api.openai.com", R"({"model":"gpt-4p"})");
  answer(other, 200, "application/json", R"({"model":"m-2","usage":{"prompt_tokens":1}})");
  const LlmCall b = builder.build(other, match(ApiFamily::kOpenAiChatCompletions));
  EXPECT_EQ(b.request_model, "gpt-4p");
  EXPECT_EQ(b.response_model, "m-2");
  EXPECT_EQ(builder.extraction_memo_hits(), 0u);
  // Same response body, another status: an error is read from it, not the success.
  auto failed = first;
  failed.response.status = 500;
  const LlmCall c = builder.build(failed, match(ApiFamily::kOpenAiChatCompletions));
  EXPECT_EQ(builder.extraction_memo_hits(), 1u);  // the request only
  EXPECT_FALSE(c.error_type.empty());
  // Bedrock reads its token counts from headers: never reused.
  auto bedrock = exchange("/model/m/converse", "bedrock-runtime.us-east-1.amazonaws.com",
                          R"({"messages":[]})");
  answer(bedrock, 200, "application/json", R"({"output":{},"stopReason":"end_turn"})");
  auto bedrock2 = bedrock;
  bedrock.response.headers.add("x-amzn-bedrock-input-token-count", "11");
  bedrock2.response.headers.add("x-amzn-bedrock-input-token-count", "12");
  const LlmCall d = builder.build(bedrock, match(ApiFamily::kBedrockConverse, "bedrock"));
  const LlmCall e = builder.build(bedrock2, match(ApiFamily::kBedrockConverse, "bedrock"));
  EXPECT_EQ(d.tokens.input, 11u);
  EXPECT_EQ(e.tokens.input, 12u);
}

// A builder that reuses extractions says exactly what fresh builders say, call for call, over a
// shuffled stream of a few bodies (both ends, errors, other families).
TEST(LlmCallBuilder, ReusedExtractionsEqualFreshOnes) {
  const std::vector<std::string> requests = {
      R"({"model":"gpt-4o","messages":[{"role":"user","content":"a"}]})",
      R"({"model":"gpt-4o","messages":[{"role":"user","content":"b"}]})",
      R"({"model":"o3","stream":true})", "not json", ""};
  const std::vector<std::string> responses = {
      R"({"model":"gpt-4o-1","choices":[{"message":{"content":"x"},"finish_reason":"stop"}]})",
      R"({"error":{"type":"rate_limit","message":"slow down"}})",
      R"({"model":"gpt-4o-2","usage":{"prompt_tokens":9,"completion_tokens":1}})", "{broken"};
  const ApiFamily families[] = {ApiFamily::kOpenAiChatCompletions, ApiFamily::kAnthropicMessages};
  const int statuses[] = {200, 429};
  ExtractOptions options;
  options.capture_text = true;
  LlmCallBuilder reusing(options);
  std::mt19937 random(9);
  for (int i = 0; i < 400; ++i) {
    auto e = exchange("/v1/chat/completions", "api.openai.com", requests[random() % requests.size()]);
    answer(e, statuses[random() % 2], "application/json", responses[random() % responses.size()]);
    const CatalogMatch m = match(families[random() % 2]);
    LlmCallBuilder fresh(options);
    ASSERT_EQ(body_facts(reusing.build(e, m)), body_facts(fresh.build(e, m))) << i;
  }
  EXPECT_GT(reusing.extraction_memo_hits(), 200u);  // 10 (body, family) pairs, 4 entries each side
}

}  // namespace llmtap::llm
