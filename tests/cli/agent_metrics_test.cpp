// AgentMetrics keeps the series handles of each (provider, model) it has seen: its /metrics
// output must stay what looking every series up on every call gave, including when a family
// reaches its series bound (label sets folded into "other", each such call counted as
// dropped) and when the cache itself starts over at its own bound.
#include "cli/agent_metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "metrics/metric_registry.h"

namespace llmtap::cli {
namespace {

// What AgentMetrics::on_call did before the cache: every series looked up on every call.
void on_call_uncached(metrics::MetricRegistry& r, const llm::LlmCall& call) {
  const std::string& m = call.response_model.empty() ? call.request_model : call.response_model;
  const metrics::Labels labels = {{"provider", call.provider.empty() ? "unknown" : call.provider},
                                  {"model", m.empty() ? "unknown" : m}};
  r.counter("llmtap_llm_calls_total", "LLM API calls seen", labels).add();
  if (call.tokens.input) {
    auto l = labels;
    l.emplace_back("kind", "input");
    r.counter("llmtap_llm_tokens_total", "tokens used by LLM API calls", l).add(*call.tokens.input);
  }
  if (call.tokens.output) {
    auto l = labels;
    l.emplace_back("kind", "output");
    r.counter("llmtap_llm_tokens_total", "tokens used by LLM API calls", l)
        .add(*call.tokens.output);
  }
  if (call.cost_usd) {
    r.gauge("llmtap_llm_estimated_cost_usd",
            "estimated cost of LLM API calls since start, from the price table", labels)
        .add(*call.cost_usd);
  }
}

llm::LlmCall make_call(std::string provider, std::string request_model,
                       std::string response_model = "", bool tokens = true, bool cost = true) {
  llm::LlmCall call;
  call.provider = std::move(provider);
  call.request_model = std::move(request_model);
  call.response_model = std::move(response_model);
  if (tokens) {
    call.tokens.input = 12;
    call.tokens.output = 5;
  }
  if (cost) call.cost_usd = 0.25;
  return call;
}

// The same calls through AgentMetrics and through the uncached reference: same /metrics.
void expect_same_output(const std::vector<llm::LlmCall>& calls, size_t max_series,
                        size_t* cached_after = nullptr) {
  metrics::MetricRegistry cached_registry(max_series);
  metrics::MetricRegistry reference_registry(max_series);
  AgentMetrics cached(cached_registry);
  AgentMetrics reference(reference_registry);  // the same fixed gauges
  for (const auto& call : calls) {
    cached.on_call(call);
    on_call_uncached(reference_registry, call);
  }
  EXPECT_EQ(cached_registry.render(), reference_registry.render());
  if (cached_after != nullptr) *cached_after = cached.cached_label_sets();
}

TEST(AgentMetrics, CachedSeriesRenderAsLookingUpEveryCallDid) {
  std::vector<llm::LlmCall> calls;
  for (int i = 0; i < 3; ++i) {
    calls.push_back(make_call("openai", "gpt-4o-mini"));
    calls.push_back(make_call("openai", "gpt-4o", "gpt-4o-2024-08-06"));
    calls.push_back(make_call("anthropic", "claude-3-5-haiku", "", /*tokens=*/i != 1));
    calls.push_back(make_call("", "", "", false, false));  // unknown/unknown
    calls.push_back(make_call("openai", "gpt-4o-mini", "", true, /*cost=*/i == 2));
  }
  expect_same_output(calls, metrics::MetricRegistry::kDefaultMaxSeriesPerFamily);
}

TEST(AgentMetrics, LabelSetsFoldedAtTheSeriesBoundAreCountedAsDroppedOnEveryCall) {
  // Bound 2 per family: the third model and later ones fold into "other", and every call of
  // theirs is counted in llmtap_metrics_series_dropped_total, cached or not.
  std::vector<llm::LlmCall> calls;
  for (int round = 0; round < 4; ++round) {
    for (const char* model : {"m-a", "m-b", "m-c", "m-d"}) calls.push_back(make_call("p", model));
  }
  metrics::MetricRegistry registry(2);
  AgentMetrics metrics(registry);
  for (const auto& call : calls) metrics.on_call(call);
  const std::string text = registry.render();
  EXPECT_NE(text.find("llmtap_llm_calls_total{model=\"m-a\",provider=\"p\"} 4\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("llmtap_llm_calls_total{model=\"other\",provider=\"other\"} 8\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("llmtap_metrics_series_dropped_total{metric=\"llmtap_llm_calls_total\"} 8\n"),
            std::string::npos)
      << text;
  // Tokens: (m-a, input) and (m-a, output) fill that family's bound of 2 already.
  EXPECT_NE(
      text.find("llmtap_metrics_series_dropped_total{metric=\"llmtap_llm_tokens_total\"} 24\n"),
      std::string::npos)
      << text;
  expect_same_output(calls, 2);
}

TEST(AgentMetrics, SeriesMadeBeforeTheBoundStayCachedAfterIt) {
  // m-a's series exist before the family is full: its later calls still land on them.
  std::vector<llm::LlmCall> calls = {make_call("p", "m-a"), make_call("p", "m-b"),
                                     make_call("p", "m-c"), make_call("p", "m-a"),
                                     make_call("p", "m-c"), make_call("p", "m-a")};
  expect_same_output(calls, 2);
}

TEST(AgentMetrics, TheCacheStartsOverAtItsBound) {
  std::vector<llm::LlmCall> calls;
  const size_t distinct = AgentMetrics::kMaxCachedLabelSets + 100;
  for (size_t i = 0; i < distinct; ++i) calls.push_back(make_call("p", "model-" + std::to_string(i)));
  for (size_t i = 0; i < 200; ++i) calls.push_back(make_call("p", "model-" + std::to_string(i)));
  size_t cached = 0;
  expect_same_output(calls, distinct + 10, &cached);
  EXPECT_LE(cached, AgentMetrics::kMaxCachedLabelSets);
  EXPECT_GT(cached, 0u);
}

TEST(AgentMetrics, LongAndInvalidLabelValuesShareTheRegistrysCleanedSeries) {
  // Two models that differ only past the label value bound are one series in the registry.
  const std::string prefix(metrics::MetricRegistry::kMaxLabelValueBytes, 'x');
  std::vector<llm::LlmCall> calls = {make_call("p", prefix + "1"), make_call("p", prefix + "2"),
                                     make_call("p", "bad\xff utf8"), make_call("p", prefix + "1")};
  expect_same_output(calls, metrics::MetricRegistry::kDefaultMaxSeriesPerFamily);
}

}  // namespace
}  // namespace llmtap::cli
