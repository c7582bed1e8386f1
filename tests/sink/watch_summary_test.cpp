#include "sink/watch_summary.h"

#include <gtest/gtest.h>

#include "llm_call_samples.h"

namespace llmtap::sink {
namespace {

llm::LlmCall call_of(std::string provider, std::string model, uint64_t latency_ms,
                     int status = 200) {
  llm::LlmCall call;
  call.provider = std::move(provider);
  call.response_model = std::move(model);
  call.latency_ns = latency_ms * 1'000'000;
  call.status = status;
  call.tokens.input = 100;
  call.tokens.output = 10;
  call.request_bytes = 1000;
  call.response_bytes = 2000;
  return call;
}

TEST(WatchSummary, AggregatesByProviderAndModel) {
  WatchSummary summary;
  summary.add(call_of("anthropic", "claude-sonnet-4", 900));
  for (int i = 0; i < 3; ++i) summary.add(call_of("openai", "gpt-4o", 100, i == 0 ? 429 : 200));
  auto unknown = call_of("openai", "", 50);
  unknown.request_model = "gpt-4o";  // falls back to the requested model
  unknown.tokens.output.reset();
  summary.add(unknown);

  const auto rows = summary.rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].provider, "openai");
  EXPECT_EQ(rows[0].model, "gpt-4o");
  EXPECT_EQ(rows[0].calls, 4u);
  EXPECT_EQ(rows[0].errors, 1u);
  EXPECT_EQ(rows[0].tokens_in, 400u);
  EXPECT_EQ(rows[0].tokens_out, 30u);
  EXPECT_EQ(rows[0].bytes_sent, 4000u);
  EXPECT_EQ(rows[0].bytes_received, 8000u);
  EXPECT_EQ(rows[1].model, "claude-sonnet-4");
  EXPECT_EQ(rows[1].calls, 1u);
  EXPECT_EQ(rows[1].p50_ns, 900'000'000u);  // one sample: the value itself

  EXPECT_EQ(summary.calls(), 5u);
  const auto total = summary.totals();
  EXPECT_EQ(total.calls, 5u);
  EXPECT_EQ(total.errors, 1u);
  EXPECT_EQ(total.tokens_in, 500u);
}

TEST(WatchSummary, ErrorsIncludeNoResponseAndErrorEvents) {
  WatchSummary summary;
  summary.add(call_of("openai", "m", 10, 0));
  auto sse_error = call_of("openai", "m", 10);
  sse_error.error_type = "overloaded_error";
  summary.add(sse_error);
  auto cut = call_of("openai", "m", 10);
  cut.response_incomplete = true;
  summary.add(cut);
  summary.add(call_of("openai", "m", 10));
  EXPECT_EQ(summary.totals().errors, 3u);
}

TEST(WatchSummary, PercentilesAreWithinABucket) {
  WatchSummary summary;
  for (uint64_t ms = 1; ms <= 100; ++ms) summary.add(call_of("p", "m", ms));
  const auto row = summary.rows().at(0);
  EXPECT_NEAR(static_cast<double>(row.p50_ns), 50e6, 50e6 * 0.25);
  EXPECT_NEAR(static_cast<double>(row.p95_ns), 95e6, 95e6 * 0.25);
  EXPECT_LE(row.p95_ns, 100'000'000u);  // never above the largest value seen
  EXPECT_LE(row.p50_ns, row.p95_ns);
}

TEST(WatchSummary, SortsByCallsThenName) {
  WatchSummary summary;
  summary.add(call_of("b", "x", 1));
  summary.add(call_of("a", "y", 1));
  summary.add(call_of("c", "z", 1));
  summary.add(call_of("c", "z", 1));
  const auto rows = summary.rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].provider, "c");
  EXPECT_EQ(rows[1].provider, "a");
  EXPECT_EQ(rows[2].provider, "b");
}

TEST(WatchSummary, ResetStartsANewWindow) {
  WatchSummary summary;
  summary.add(call_of("openai", "gpt-4o", 1));
  summary.reset();
  EXPECT_TRUE(summary.empty());
  EXPECT_EQ(summary.calls(), 0u);
  EXPECT_TRUE(summary.rows().empty());
  EXPECT_EQ(summary.totals().calls, 0u);
  EXPECT_NE(summary.render().find("(no LLM calls)"), std::string::npos);
}

TEST(WatchSummary, GroupsAreBounded) {
  WatchSummary summary;
  const size_t extra = 10;
  for (size_t i = 0; i < WatchSummary::kMaxGroups + extra; ++i) {
    summary.add(call_of("p", "model-" + std::to_string(i), 1));
  }
  const auto rows = summary.rows();
  EXPECT_EQ(rows.size(), WatchSummary::kMaxGroups + 1);
  EXPECT_EQ(rows[0].model, "(other)");
  EXPECT_EQ(rows[0].calls, extra);
  EXPECT_EQ(summary.totals().calls, WatchSummary::kMaxGroups + extra);
}

TEST(WatchSummary, RendersATable) {
  WatchSummary summary;
  summary.add(call_of("anthropic", "claude-sonnet-4", 900));
  summary.add(call_of("openai", "gpt-4o", 100));
  summary.add(call_of("openai", "gpt-4o", 300));
  const std::string table = summary.render();
  const size_t header = table.find("PROVIDER");
  const size_t openai = table.find("openai");
  const size_t anthropic = table.find("anthropic");
  const size_t total = table.find("TOTAL");
  EXPECT_EQ(header, 0u);
  EXPECT_LT(openai, anthropic);
  EXPECT_LT(anthropic, total);
  EXPECT_EQ(table.back(), '\n');
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 4);
  EXPECT_NE(table.find("900ms"), std::string::npos) << table;
  EXPECT_EQ(table.find('\x1b'), std::string::npos);
  EXPECT_NE(summary.render(WatchStyle{.color = true}).find('\x1b'), std::string::npos);
}

TEST(WatchSummary, SumsEstimatedCost) {
  WatchSummary summary;
  auto priced = call_of("openai", "gpt-4o", 100);
  priced.cost_usd = 0.0012;
  summary.add(priced);
  priced.cost_usd = 0.0025;
  summary.add(priced);
  auto unpriced = call_of("openai", "gpt-4o", 100);  // no estimate: adds nothing
  summary.add(unpriced);
  auto claude = call_of("anthropic", "claude-sonnet-4", 100);
  claude.cost_usd = 12.5;
  summary.add(claude);
  summary.add(call_of("mistral", "unknown-model", 100));

  const auto rows = summary.rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].model, "gpt-4o");
  EXPECT_DOUBLE_EQ(rows[0].cost_usd, 0.0037);
  EXPECT_EQ(rows[0].costed_calls, 2u);
  EXPECT_DOUBLE_EQ(rows[1].cost_usd, 12.5);
  EXPECT_EQ(rows[2].costed_calls, 0u);
  const auto total = summary.totals();
  EXPECT_DOUBLE_EQ(total.cost_usd, 12.5037);
  EXPECT_EQ(total.costed_calls, 3u);

  // Under $10 to the hundredth of a cent, then to the cent; "+" when some calls had no
  // estimate, "-" when none had.
  const std::string table = summary.render();
  EXPECT_NE(table.find(" COST "), std::string::npos) << table;
  EXPECT_NE(table.find(" $0.0037+ "), std::string::npos) << table;
  EXPECT_NE(table.find(" $12.50 "), std::string::npos) << table;
  EXPECT_NE(table.find(" $12.50+ "), std::string::npos) << table;
  const size_t mistral = table.find("mistral");
  ASSERT_NE(mistral, std::string::npos);
  EXPECT_NE(table.find("        - ", mistral), std::string::npos) << table;
}

TEST(WatchSummary, RendersColumnsInPlace) {
  WatchSummary summary;
  auto call = call_of("openai", "gpt-4o-mini", 900);
  call.cost_usd = 0.00078;
  summary.add(call);
  const std::string table = summary.render();
  EXPECT_EQ(
      table,
      "PROVIDER       MODEL                          CALLS ERRORS    TOK_IN   TOK_OUT      COST"
      "    SENT    RECV    P50    P95\n"
      "openai         gpt-4o-mini                        1      0       100        10   $0.0008"
      "   1000B    2.0K  900ms  900ms\n"
      "TOTAL                                             1      0       100        10   $0.0008"
      "   1000B    2.0K  900ms  900ms\n");
}

}  // namespace
}  // namespace llmtap::sink
