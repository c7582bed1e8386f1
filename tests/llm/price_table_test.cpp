#include "llm/price_table.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <utility>
#include <vector>

#include "common/yaml_reader.h"
#include "llm/catalog/builtin_catalog_text.h"
#include "llm/catalog/catalog_loader.h"

namespace llmtap::llm {
namespace {

constexpr double kExact = 1e-12;  // sums of a few products: exact far below a cent

LlmCall call(std::string provider, std::string response_model, std::optional<uint64_t> input,
             std::optional<uint64_t> output) {
  LlmCall c;
  c.provider = std::move(provider);
  c.response_model = std::move(response_model);
  c.tokens.input = input;
  c.tokens.output = output;
  return c;
}

double usd(const PriceTable& table, const LlmCall& c) {
  const auto cost = table.cost_of(c);
  EXPECT_TRUE(cost.has_value()) << c.provider << " " << c.response_model << c.request_model;
  EXPECT_FALSE(cost && cost->partial);
  return cost ? cost->usd : -1;
}

// A file removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/llmtap_prices_XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = name;
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(PriceTable, BuiltinLoadsWithCatalogProviders) {
  const PriceTable table = PriceTable::builtin();
  EXPECT_EQ(table.as_of(), "2026-11-01");
  EXPECT_GT(table.size(), 80u);
  const std::vector<std::string> providers = table.providers();
  for (const char* id : {"openai", "azure-openai", "anthropic", "bedrock", "vertex-ai", "gemini",
                         "mistral", "deepseek", "groq", "xai", "cohere"}) {
    EXPECT_NE(std::find(providers.begin(), providers.end(), id), providers.end()) << id;
  }
  // Every provider id is one the built-in catalog reports.
  std::set<std::string> catalog;
  for (const CatalogEntry& entry : load_catalog_entries(builtin_catalog_text(), "catalog")) {
    catalog.insert(entry.provider);
  }
  for (const std::string& id : providers) EXPECT_TRUE(catalog.contains(id)) << id;
}

TEST(PriceTable, FirstMatchingGlobWins) {
  const PriceTable table = PriceTable::builtin();
  // Dated snapshots and smaller siblings are listed before their family.
  EXPECT_NEAR(usd(table, call("openai", "gpt-4o-mini-2024-07-18", 1000, 1000)), 0.00075, kExact);
  EXPECT_NEAR(usd(table, call("openai", "gpt-4o-2024-08-06", 1000, 1000)), 0.0125, kExact);
  EXPECT_NEAR(usd(table, call("openai", "gpt-4o-2024-05-13", 1000, 1000)), 0.02, kExact);
  EXPECT_NEAR(usd(table, call("openai", "gpt-5-mini-2025-08-07", 1000, 1000)), 0.00225, kExact);
  EXPECT_NEAR(usd(table, call("openai", "gpt-5-2025-08-07", 1000, 1000)), 0.01125, kExact);
  EXPECT_NEAR(usd(table, call("anthropic", "claude-opus-4-5-20251101", 1000, 1000)), 0.03, kExact);
  EXPECT_NEAR(usd(table, call("anthropic", "claude-opus-4-1-20250805", 1000, 1000)), 0.09, kExact);
  EXPECT_NEAR(usd(table, call("gemini", "gemini-2.5-flash-lite", 1000, 1000)), 0.0005, kExact);
  EXPECT_NEAR(usd(table, call("gemini", "gemini-2.5-flash", 1000, 1000)), 0.0028, kExact);
  // Case is ignored; Bedrock's ids carry a prefix and a version.
  EXPECT_NEAR(usd(table, call("openai", "GPT-4o-Mini", 1000, 1000)), 0.00075, kExact);
  EXPECT_NEAR(usd(table, call("bedrock", "us.anthropic.claude-3-5-haiku-20241022-v1:0", 1000, 0)),
              0.0008, kExact);
}

TEST(PriceTable, ResponseModelFirstThenRequestModel) {
  const PriceTable table = PriceTable::builtin();
  LlmCall c = call("anthropic", "", 1000, 1000);
  c.request_model = "claude-opus-4-1-20250805";
  EXPECT_NEAR(usd(table, c), 0.09, kExact);
  c.response_model = "claude-3-5-haiku-20241022";  // the answer names the model used
  EXPECT_NEAR(usd(table, c), 0.0048, kExact);
  c.response_model = "a-model-with-no-price";  // e.g. an Azure deployment: the request's
  EXPECT_NEAR(usd(table, c), 0.09, kExact);
  c.request_model = "nor-this-one";
  EXPECT_FALSE(table.cost_of(c));
  c.response_model = "gpt-4o";  // another provider's model
  EXPECT_FALSE(table.cost_of(c));
}

TEST(PriceTable, OpenAiCachedTokensArePartOfInput) {
  const PriceTable table = PriceTable::builtin();
  LlmCall c = call("openai", "gpt-4o-2024-11-20", 100'000, 20'000);
  c.tokens.cached = 40'000;
  c.tokens.reasoning = 5'000;  // inside the output count: not added again
  // 60000 x 2.50 + 40000 x 1.25 + 20000 x 10.00 per million
  EXPECT_NEAR(usd(table, c), 0.15 + 0.05 + 0.20, kExact);

  LlmCall o3 = call("openai", "o3-mini-2025-01-31", 2'000, 3'000);
  o3.tokens.cached = 1'000;
  o3.tokens.reasoning = 2'500;
  // 1000 x 1.10 + 1000 x 0.55 + 3000 x 4.40
  EXPECT_NEAR(usd(table, o3), 0.0011 + 0.00055 + 0.0132, kExact);

  // A cached count above the input count (a broken response) does not go negative.
  LlmCall odd = call("openai", "gpt-4o", 10, 0);
  odd.tokens.cached = 20;
  EXPECT_NEAR(usd(table, odd), 20 * 1.25 / 1e6, kExact);

  LlmCall azure = call("azure-openai", "gpt-4o-mini-2024-07-18", 1'000'000, 0);
  azure.request_model = "my-deployment";
  EXPECT_NEAR(usd(table, azure), 0.15, kExact);
}

TEST(PriceTable, AnthropicCacheTokensAreApartFromInput) {
  const PriceTable table = PriceTable::builtin();
  LlmCall c = call("anthropic", "claude-sonnet-4-20250514", 1'000, 2'000);
  c.tokens.cached = 50'000;
  c.tokens.cache_creation = 20'000;
  // 1000 x 3 + 50000 x 0.30 + 20000 x 3.75 + 2000 x 15 per million
  EXPECT_NEAR(usd(table, c), 0.003 + 0.015 + 0.075 + 0.03, kExact);
  EXPECT_NEAR(usd(table, call("anthropic", "claude-3-5-haiku-20241022", 10'000, 1'000)),
              0.008 + 0.004, kExact);
}

TEST(PriceTable, GeminiThoughtsAreBilledAsOutput) {
  const PriceTable table = PriceTable::builtin();
  LlmCall c = call("gemini", "gemini-2.5-flash", 10'000, 1'000);
  c.tokens.cached = 2'000;     // inside promptTokenCount
  c.tokens.reasoning = 3'000;  // thoughtsTokenCount, apart from candidatesTokenCount
  // 8000 x 0.30 + 2000 x 0.03 + (1000 + 3000) x 2.50 per million
  EXPECT_NEAR(usd(table, c), 0.0024 + 0.00006 + 0.01, kExact);
}

TEST(PriceTable, PartialWhenATokenKindHasNoPrice) {
  const PriceTable table = PriceTable::builtin();
  // Embeddings have an input price only.
  auto cost = table.cost_of(call("openai", "text-embedding-3-small", 1'000'000, 5));
  ASSERT_TRUE(cost);
  EXPECT_TRUE(cost->partial);
  EXPECT_NEAR(cost->usd, 0.02, kExact);
  cost = table.cost_of(call("openai", "text-embedding-3-small", 1'000'000, std::nullopt));
  ASSERT_TRUE(cost);
  EXPECT_FALSE(cost->partial);

  // OpenAI lists no cache-write price.
  LlmCall c = call("openai", "gpt-4o", 1'000, 1'000);
  c.tokens.cache_creation = 500;
  cost = table.cost_of(c);
  ASSERT_TRUE(cost);
  EXPECT_TRUE(cost->partial);
  EXPECT_NEAR(cost->usd, 0.0125, kExact);
}

TEST(PriceTable, NoCostWithoutTokensOrPrice) {
  const PriceTable table = PriceTable::builtin();
  EXPECT_FALSE(table.cost_of(call("openai", "gpt-4o", std::nullopt, std::nullopt)));
  LlmCall total_only = call("openai", "gpt-4o", std::nullopt, std::nullopt);
  total_only.tokens.total = 1000;  // cannot be split into prices
  EXPECT_FALSE(table.cost_of(total_only));
  EXPECT_FALSE(table.cost_of(call("", "gpt-4o", 10, 10)));
  EXPECT_FALSE(table.cost_of(call("openai-compatible", "gpt-4o", 10, 10)));
  EXPECT_FALSE(table.cost_of(call("openai", "", 10, 10)));
  EXPECT_FALSE(PriceTable().cost_of(call("openai", "gpt-4o", 10, 10)));
  // Zero tokens are known tokens: a cost of zero.
  const auto zero = table.cost_of(call("openai", "gpt-4o", 0, 0));
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->usd, 0);
}

TEST(PriceTable, UserFileWins) {
  const TempFile file(R"(version: 1
as_of: 2027-01-15
providers:
  - provider: openai
    source: https://example.com/our-contract
    cached_included_in_input: true
    models:
      - {match: gpt-4o-2024-11-20, input: 1, cached_input: 0.5, output: 2}
      - {match: our-finetune-*, input: 4, output: 8}
  - provider: openai-compatible
    source: https://example.com/gateway
    cached_included_in_input: true
    models:
      - {match: "*", input: 0.5, output: 0.5}
)");
  const PriceTable user = PriceTable::from_file(file.path());
  EXPECT_EQ(user.size(), 3u);
  EXPECT_EQ(user.as_of(), "2027-01-15");

  PriceTable table = PriceTable::builtin();
  const size_t builtin_size = table.size();
  table.add_overrides(user);
  EXPECT_EQ(table.size(), builtin_size + 3);
  EXPECT_EQ(table.as_of(), "2026-11-01");  // the older date: some prices are still built in
  EXPECT_NEAR(usd(table, call("openai", "gpt-4o-2024-11-20", 1'000'000, 1'000'000)), 3.0, kExact);
  EXPECT_NEAR(usd(table, call("openai", "gpt-4o-2024-08-06", 1'000'000, 0)), 2.5, kExact);
  EXPECT_NEAR(usd(table, call("openai", "our-finetune-7", 1'000'000, 0)), 4.0, kExact);
  EXPECT_NEAR(usd(table, call("openai-compatible", "llama3", 1'000'000, 0)), 0.5, kExact);

  PriceTable older = PriceTable::builtin();
  older.add_overrides(PriceTable::from_yaml(R"(version: 1
as_of: 2025-03-01
providers: []
)",
                                            "old.yaml"));
  EXPECT_EQ(older.as_of(), "2025-03-01");
}

// The error for `yaml`, read as "t.yaml".
std::string error_of(const std::string& yaml) {
  try {
    PriceTable::from_yaml(yaml, "t.yaml");
  } catch (const YamlError& e) {
    return e.what();
  }
  return "no error";
}

// A valid table with `models` (list items at 6 spaces) after line 7.
std::string table_with(const std::string& models) {
  return "version: 1\n"
         "as_of: 2026-11-01\n"
         "providers:\n"
         "  - provider: openai\n"
         "    source: https://example.com/prices\n"
         "    cached_included_in_input: true\n"
         "    models:\n" +
         models;
}

// A memo of recent lookups gives what looking up every time gives: over many models (more
// than it keeps), after the table takes overrides, and when the table at the same address is
// replaced by another (assigned over, or destroyed and built again in its place).
TEST(PriceTable, AMemoGivesWhatLookingUpGives) {
  const PriceTable user = PriceTable::from_yaml(
      "version: 1\nas_of: 2027-01-15\nproviders:\n  - {provider: openai, source: "
      "https://example.com/c, cached_included_in_input: true, models: [{match: gpt-4o*, "
      "input: 100, output: 200}]}\n",
      "user.yaml");
  const std::vector<std::pair<std::string, std::string>> models = {
      {"openai", "gpt-4o-mini"}, {"openai", "gpt-4o-2024-08-06"}, {"openai", "gpt-5"},
      {"openai", "o3-mini"},     {"anthropic", "claude-sonnet-4-5"}, {"anthropic", "nope"},
      {"google", "gemini-2.5-pro"}, {"openai", "GPT-4O-MINI"},  {"mistral", "mistral-large"},
      {"openai", "unknown-model"}, {"deepseek", "deepseek-chat"}, {"openai", "gpt-4.1"}};
  auto same = [](const std::optional<CallCost>& a, const std::optional<CallCost>& b) {
    return a.has_value() == b.has_value() && (!a || (a->usd == b->usd && a->partial == b->partial));
  };
  PriceMemo memo;
  for (int round = 0; round < 3; ++round) {
    PriceTable table = PriceTable::builtin();
    if (round == 1) table.add_overrides(user);
    for (int i = 0; i < 200; ++i) {
      if (round == 2 && i == 100) table = PriceTable::builtin(), table.add_overrides(user);
      const auto& [provider, model] = models[(i * 7 + round) % models.size()];
      LlmCall c = call(provider, model, 1000 + i, 10 * i);
      if (i % 3 == 0) std::swap(c.request_model, c.response_model);
      ASSERT_TRUE(same(table.cost_of(c, &memo), table.cost_of(c))) << provider << " " << model;
    }
  }
}

TEST(PriceTable, ErrorsNameTheFileLineAndColumn) {
  EXPECT_EQ(error_of(table_with("      - {match: gpt-4o*, input: 2.5, output: 10}\n")), "no error");

  EXPECT_EQ(error_of(table_with("      - {match: gpt-4o*, input: -1, output: 10}\n")),
            "t.yaml:8:33: provider openai: 'input' is negative (-1)");
  EXPECT_EQ(error_of(table_with("      - {match: gpt-4o*, input: 1, output: -0.5}\n")),
            "t.yaml:8:44: provider openai: 'output' is negative (-0.5)");
  EXPECT_EQ(error_of(table_with("      - {match: gpt-4o*, input: cheap}\n")),
            "t.yaml:8:33: provider openai: 'input' must be a number (USD per million tokens), "
            "not 'cheap'");
  EXPECT_EQ(error_of(table_with("      - {match: gpt-4o*, input: 2000000}\n")),
            "t.yaml:8:33: provider openai: 'input' is over 1000000 USD per million tokens "
            "(2000000)");
  EXPECT_EQ(error_of(table_with("      - {match: gpt-4o*, input: .nan}\n")),
            "t.yaml:8:33: provider openai: 'input' must be a number (USD per million tokens), "
            "not '.nan'");
  EXPECT_EQ(error_of(table_with("      - {match: gpt-4o*, input: 1, cached: 1}\n")),
            "t.yaml:8:36: provider openai: unknown key 'cached' in a model (known: match, input, "
            "cached_input, cache_write, output, note)");
  EXPECT_EQ(error_of(table_with("      - {match: gpt-4o*, input: 1, input: 2}\n")),
            "t.yaml:8:36: provider openai: duplicate key 'input' in a model");
  EXPECT_EQ(error_of(table_with("      - {match: gpt-4o*, output: 1}\n")),
            "t.yaml:8:9: provider openai: 'input' is missing");
  EXPECT_EQ(error_of(table_with("      - {input: 1}\n")),
            "t.yaml:8:9: provider openai: 'match' is missing");
  EXPECT_EQ(error_of(table_with("      - {match: \"\", input: 1}\n")),
            "t.yaml:8:17: provider openai: a model glob must have 1 to 256 characters");
  EXPECT_EQ(error_of(table_with("      - {match: [], input: 1}\n")),
            "t.yaml:8:17: provider openai: 'match' is an empty list");
  EXPECT_EQ(error_of(table_with("      - {match: gpt-4o*, input: 2.5}\n"
                                "      - {match: gpt-4o-mini*, input: 0.15}\n")),
            "t.yaml:9:17: provider openai: model 'gpt-4o-mini*' is never used: 'gpt-4o*' (line 8) "
            "comes first and matches it; list the narrower glob first");
  EXPECT_EQ(error_of(table_with("      - {match: [o1*, gpt-4o*], input: 2.5}\n"
                                "      - {match: GPT-4o, input: 0.15}\n")),
            "t.yaml:9:17: provider openai: model 'GPT-4o' is never used: 'gpt-4o*' (line 8) "
            "comes first and matches it; list the narrower glob first");
  EXPECT_EQ(error_of(table_with("      []\n")),
            "t.yaml:8:7: provider openai: 'models' is an empty list");
  EXPECT_EQ(error_of(table_with("      - {match: a*, input: 1}\ncurrency: USD\n")),
            "t.yaml:9:1: unknown key 'currency' in the price table (known: version, as_of, "
            "providers)");
}

TEST(PriceTable, ProviderAndTopLevelErrors) {
  const std::string models = "    models:\n      - {match: a*, input: 1}\n";
  const std::string head = "version: 1\nas_of: 2026-11-01\nproviders:\n";
  EXPECT_EQ(error_of(head +
                     "  - provider: OpenAI\n    source: https://x\n"
                     "    cached_included_in_input: true\n" +
                     models),
            "t.yaml:4:15: bad provider id 'OpenAI' (a catalog provider id: [a-z0-9._-])");
  EXPECT_EQ(error_of(head + "  - provider: openai\n    cached_included_in_input: true\n" + models),
            "t.yaml:4:5: provider openai: 'source' is missing");
  EXPECT_EQ(error_of(head +
                     "  - provider: [openai, xai]\n    source: docs\n"
                     "    cached_included_in_input: true\n" +
                     models),
            "t.yaml:5:13: provider openai, xai: 'source' must be the URL the prices come from");
  EXPECT_EQ(error_of(head + "  - provider: openai\n    source: https://x\n" + models),
            "t.yaml:4:5: provider openai: 'cached_included_in_input' is missing");
  EXPECT_EQ(error_of(head +
                     "  - provider: openai\n    source: https://x\n"
                     "    cached_included_in_input: yes\n" +
                     models),
            "t.yaml:6:31: provider openai: 'cached_included_in_input' must be true or false");
  EXPECT_EQ(error_of(head +
                     "  - provider: openai\n    source: https://x\n"
                     "    cached_included_in_input: true\n    prices: {}\n" +
                     models),
            "t.yaml:7:5: unknown key 'prices' in a provider (known: provider, source, "
            "cached_included_in_input, reasoning_included_in_output, note, models)");
  EXPECT_EQ(error_of(head + "  - provider: openai\n    source: https://x\n"
                            "    cached_included_in_input: true\n"),
            "t.yaml:4:5: provider openai: 'models' is missing");
  EXPECT_EQ(error_of(head + "  - provider: openai\n    source: https://x\n"
                            "    cached_included_in_input: true\n    models: gpt-4o\n"),
            "t.yaml:7:13: provider openai: 'models' must be a list");

  EXPECT_EQ(error_of(""), "t.yaml:1:1: empty price table: expected 'version: 1'");
  EXPECT_EQ(error_of("version: 2\nas_of: 2026-11-01\nproviders: []\n"),
            "t.yaml:1:10: unsupported version (want 1)");
  EXPECT_EQ(error_of("as_of: 2026-11-01\nproviders: []\n"), "t.yaml:1:1: 'version' is missing");
  EXPECT_EQ(error_of("version: 1\nproviders: []\n"), "t.yaml:1:1: 'as_of' is missing");
  EXPECT_EQ(error_of("version: 1\nas_of: 2026-11-01\n"), "t.yaml:1:1: 'providers' is missing");
  EXPECT_EQ(error_of("version: 1\nas_of: 2026-13-01\nproviders: []\n"),
            "t.yaml:2:8: 'as_of' must be a date, YYYY-MM-DD, not '2026-13-01'");
  EXPECT_EQ(error_of("version: 1\nas_of: last week\nproviders: []\n"),
            "t.yaml:2:8: 'as_of' must be a date, YYYY-MM-DD, not 'last week'");
  EXPECT_EQ(error_of("version: [1\n"), error_of("version: [1\n"));  // yaml-cpp's own words
  EXPECT_EQ(error_of("version: [1\n").rfind("t.yaml:", 0), 0u);
  EXPECT_EQ(error_of("version: 1\n---\nversion: 1\n"),
            "t.yaml:2:1: only one YAML document is allowed");
}

TEST(PriceTable, UnreadableFile) {
  try {
    PriceTable::from_file("/nonexistent/prices.yaml");
    ADD_FAILURE() << "no error";
  } catch (const YamlError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/prices.yaml: cannot read");
  }
}

}  // namespace
}  // namespace llmtap::llm
