#pragma once
// `llmtap watch`'s periodic table: calls grouped by (provider, model) with errors, tokens,
// estimated cost, bytes and latency percentiles, in memory bounded by kMaxGroups whatever the
// traffic.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/latency_histogram.h"
#include "llm/llm_call.h"
#include "sink/watch_style.h"

namespace llmtap::sink {

class WatchSummary {
 public:
  // Groups past this many share one "(other)" row: model names come from the traffic.
  static constexpr size_t kMaxGroups = 256;

  struct Row {
    std::string provider;
    std::string model;
    uint64_t calls = 0;
    uint64_t errors = 0;
    uint64_t tokens_in = 0;
    uint64_t tokens_out = 0;
    double cost_usd = 0;        // summed over the calls with an estimate (LlmCall::cost_usd)
    uint64_t costed_calls = 0;  // calls with an estimate
    uint64_t bytes_sent = 0;
    uint64_t bytes_received = 0;
    uint64_t p50_ns = 0;  // 0 when no call had a latency
    uint64_t p95_ns = 0;
  };

  void add(const llm::LlmCall& call);
  void reset();  // starts a new window
  uint64_t calls() const { return total_.calls; }
  bool empty() const { return total_.calls == 0; }

  std::vector<Row> rows() const;  // most calls first, then by provider and model
  Row totals() const;
  // The table: a header, rows() and a TOTAL line, each ending in a newline.
  std::string render(const WatchStyle& style = {}) const;

 private:
  struct Group {
    uint64_t calls = 0;
    uint64_t errors = 0;
    uint64_t tokens_in = 0;
    uint64_t tokens_out = 0;
    double cost_usd = 0;
    uint64_t costed_calls = 0;
    uint64_t bytes_sent = 0;
    uint64_t bytes_received = 0;
    LatencyHistogram latency;
  };

  static void count(Group& group, const llm::LlmCall& call);
  static Row row_of(std::string provider, std::string model, const Group& group);

  // Orders (provider, model) keys of strings or string_views alike, so a lookup from a call's
  // fields allocates nothing.
  struct KeyLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      using View = std::pair<std::string_view, std::string_view>;
      return View(a.first, a.second) < View(b.first, b.second);
    }
  };

  std::map<std::pair<std::string, std::string>, Group, KeyLess> groups_;
  Group total_;
};

}  // namespace llmtap::sink
