// User catalogs layered over the built-in one, and the cost of one match.

#include <gtest/gtest.h>
#include <time.h>

#include <cstdio>
#include <string>
#include <vector>

#include "llm/catalog/provider_catalog.h"

namespace llmtap::llm {
namespace {

constexpr const char* kUserCatalog = R"(version: 1
entries:
  # A company gateway the built-in catalog cannot know.
  - id: acme-gateway
    hosts: [llm-gw.acme.internal]
    routes:
      - {path: "/v1/deployments/{deployment}/chat", family: openai.chat_completions}
  # Replaces the built-in "perplexity" entry: only /v1 paths, bearer tokens only.
  - id: perplexity
    hosts: [api.perplexity.ai]
    routes:
      - {path: /v1/chat/completions, family: openai.chat_completions, auth: bearer}
  # Claims a host before the built-in fallbacks see it.
  - id: my-vllm
    provider: vllm
    hosts: ["gpu-*.lab.internal:8000"]
    routes:
      - {path: /v1/chat/completions, family: openai.chat_completions}
)";

ProviderCatalog layered() {
  ProviderCatalog catalog = ProviderCatalog::builtin();
  catalog.add_overrides(ProviderCatalog::from_yaml(kUserCatalog, "user.yaml"));
  return catalog;
}

TEST(CatalogOverrides, AddProviders) {
  const ProviderCatalog catalog = layered();
  EXPECT_EQ(catalog.size(), ProviderCatalog::builtin().size() + 2);
  const auto match =
      catalog.match("llm-gw.acme.internal", "POST", "/v1/deployments/big%2Dmodel/chat", {});
  ASSERT_TRUE(match);
  EXPECT_EQ(match->provider, "acme-gateway");
  EXPECT_EQ(match->deployment, "big-model");
  EXPECT_FALSE(match->fallback);
  // Built-in entries still apply.
  EXPECT_EQ(catalog.match("api.openai.com", "POST", "/v1/responses", {})->provider, "openai");
}

TEST(CatalogOverrides, ReplaceBuiltinEntriesById) {
  const ProviderCatalog catalog = layered();
  EXPECT_FALSE(catalog.match("api.perplexity.ai", "POST", "/chat/completions", {}));
  EXPECT_FALSE(catalog.match("api.perplexity.ai", "POST", "/v1/chat/completions", {}));
  const auto match = catalog.match("api.perplexity.ai", "POST", "/v1/chat/completions",
                                   {{"Authorization", "Bearer pplx-1"}});
  ASSERT_TRUE(match);
  EXPECT_EQ(match->provider, "perplexity");
  EXPECT_EQ(match->auth_style, "bearer");
}

TEST(CatalogOverrides, UserEntriesComeBeforeFallbacks) {
  const ProviderCatalog catalog = layered();
  auto match = catalog.match("gpu-7.lab.internal:8000", "POST", "/v1/chat/completions", {});
  ASSERT_TRUE(match);
  EXPECT_EQ(match->provider, "vllm");
  EXPECT_FALSE(match->fallback);
  match = catalog.match("gpu-7.lab.internal:9000", "POST", "/v1/chat/completions", {});
  ASSERT_TRUE(match);
  EXPECT_EQ(match->provider, "openai-compatible");
  EXPECT_TRUE(match->fallback);
}

TEST(CatalogOverrides, UserEntriesComeBeforeBuiltinOnes) {
  ProviderCatalog catalog = ProviderCatalog::builtin();
  catalog.add_overrides(ProviderCatalog::from_yaml(R"(version: 1
entries:
  - id: corp-openai-proxy
    provider: corp-proxy
    hosts: [api.openai.com]
    routes: [{path: /v1/chat/completions, family: openai.chat_completions}]
)",
                                                   "user.yaml"));
  EXPECT_EQ(catalog.match("api.openai.com", "POST", "/v1/chat/completions", {})->provider,
            "corp-proxy");
  EXPECT_EQ(catalog.match("api.openai.com", "POST", "/v1/embeddings", {})->provider, "openai");
}

// CPU time of this thread: the test machine is shared, wall time would count waiting.
double thread_cpu_ns() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
}

// Not a timed test: prints the cost so regressions are visible in the log.
TEST(CatalogMatchCost, PrintsNanosecondsPerMatch) {
  const ProviderCatalog catalog = ProviderCatalog::builtin();
  const http::HeaderFields headers = {{"Content-Type", "application/json"},
                                                 {"Authorization", "Bearer sk-x"},
                                                 {"User-Agent", "OpenAI/Python 1.50.0"}};
  struct Request {
    const char* name;
    const char* host;
    const char* target;
  };
  const Request requests[] = {
      {"exact host", "api.openai.com", "/v1/chat/completions"},
      {"wildcard host", "bedrock-runtime.us-east-1.amazonaws.com",
       "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream"},
      {"fallback", "vllm.internal:8000", "/v1/chat/completions"},
      {"no match", "github.com", "/upload"},
  };
  constexpr int kRounds = 100000;
  for (const Request& r : requests) {
    size_t matched = 0;
    const double start = thread_cpu_ns();
    for (int i = 0; i < kRounds; ++i) {
      matched += catalog.match(r.host, "POST", r.target, headers).has_value();
    }
    const double ns = (thread_cpu_ns() - start) / kRounds;
    std::printf("catalog match, %-13s: %7.1f ns/match\n", r.name, ns);
    EXPECT_EQ(matched, std::string_view(r.name) == "no match" ? 0u : size_t{kRounds});
  }
}

}  // namespace
}  // namespace llmtap::llm
