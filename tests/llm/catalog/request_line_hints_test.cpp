#include "llm/catalog/request_line_hints.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "llm/catalog/provider_catalog.h"

namespace llmtap::llm {
namespace {

bool has(const std::vector<RequestPathHint>& hints, std::string_view text, bool suffix) {
  return std::find(hints.begin(), hints.end(), RequestPathHint{std::string(text), suffix}) !=
         hints.end();
}

TEST(RequestPathHints, TheBuiltInCatalogFitsTheKernelAndLeavesOrdinaryPathsOut) {
  const auto hints = request_path_hints(ProviderCatalog::builtin());
  ASSERT_GT(hints.size(), 10u);
  EXPECT_LE(hints.size(), kMaxRequestPathHints);
  for (const auto& h : hints) {
    EXPECT_FALSE(h.text.empty());
    EXPECT_LE(h.text.size(), kMaxRequestPathHintBytes) << h.text;
    EXPECT_NE(h.text, "/") << "a hint that matches every path saves nothing";
  }
  EXPECT_TRUE(has(hints, "/v1/chat/completions", false));
  EXPECT_TRUE(has(hints, "/chat/completions", true));  // "/**/chat/completions"
  EXPECT_TRUE(has(hints, "/api/chat", false));
  EXPECT_TRUE(has(hints, ":generateContent", true));
  EXPECT_TRUE(has(hints, "/openai/deployments/", false) || has(hints, "/chat/completions", true));
}

TEST(RequestPathHints, EveryLlmRequestLineOfTheBuiltInCatalogMatchesAndOthersDoNot) {
  const auto hints = request_path_hints(ProviderCatalog::builtin());
  for (const char* line : {
           "POST /v1/chat/completions HTTP/1.1\r\n",
           "POST /v1/chat/completions/ HTTP/1.1\r\n",
           "POST /openai/v1/chat/completions?api-version=1 HTTP/1.1\r\n",
           "POST /serving-endpoints/x/chat/completions HTTP/1.1\r\n",
           "POST /openai/deployments/gpt4o/chat/completions?api-version=2024-06-01 HTTP/1.1\r\n",
           "POST /v1beta/models/gemini-2.0-flash:generateContent HTTP/1.1\r\n",
           "POST /v1/projects/p/locations/us/publishers/google/models/g:streamGenerateContent?alt=sse HTTP/1.1\r\n",
           "POST /model/anthropic.claude-3-haiku/invoke HTTP/1.1\r\n",
           "POST /v1/messages HTTP/1.1\r\n",
           "POST /api/generate HTTP/1.1\r\n",
           "POST /v1/embeddings HTTP/1.1\r\n",
           "POST /v1/responses HTTP/1.1\r\n",
       }) {
    EXPECT_TRUE(request_line_may_be_llm(hints, line)) << line;
  }
  for (const char* line : {
           "POST /api/orders HTTP/1.1\r\n",
           "GET /healthz HTTP/1.1\r\n",
           "GET /v1/users/42 HTTP/1.1\r\n",
           "PUT /objects/bucket/key HTTP/1.1\r\n",
           "HTTP/1.1 200 OK\r\n",            // a response
           "post /v1/chat/completions x",    // not a method
           "\x16\x03\x01\x02\x00 binary",     // not HTTP
           "POST",                            // too short
       }) {
    EXPECT_FALSE(request_line_may_be_llm(hints, line)) << line;
  }
}

TEST(RequestPathHints, PatternsWithoutLiteralsCollapseToEveryPathAndLongOnesAreCut) {
  auto catalog = ProviderCatalog::from_yaml(R"(version: 1
entries:
  - id: odd
    hosts: [odd.example]
    routes:
      - {path: "/{tenant}/go", family: openai.chat_completions}
)", "odd.yaml");
  const auto everything = request_path_hints(catalog);
  ASSERT_EQ(everything.size(), 1u);
  EXPECT_EQ(everything[0], (RequestPathHint{"/", false}));
  EXPECT_TRUE(request_line_may_be_llm(everything, "GET /anything HTTP/1.1"));

  auto long_paths = ProviderCatalog::from_yaml(R"(version: 1
entries:
  - id: long
    hosts: [long.example]
    routes:
      - {path: "/a-very-long-prefix-segment/that-goes-on-and-on/and-on/v1/chat", family: openai.chat_completions}
      - {path: "/x/{model}/an-even-longer-suffix-that-goes-on-and-on-and-on/generate", family: openai.chat_completions}
)", "long.yaml");
  const auto cut = request_path_hints(long_paths);
  ASSERT_EQ(cut.size(), 2u);
  for (const auto& h : cut) EXPECT_EQ(h.text.size(), kMaxRequestPathHintBytes);
  EXPECT_FALSE(cut[0].suffix);
  EXPECT_TRUE(cut[1].suffix);
  EXPECT_TRUE(request_line_may_be_llm(
      cut, "POST /a-very-long-prefix-segment/that-goes-on-and-on/and-on/v1/chat HTTP/1.1"));
  EXPECT_TRUE(request_line_may_be_llm(
      cut, "POST /x/m/an-even-longer-suffix-that-goes-on-and-on-and-on/generate HTTP/1.1"));
}

}  // namespace
}  // namespace llmtap::llm
