#include "cli/agent_metrics.h"

#include "policy/severity.h"

namespace llmtap::cli {
namespace {

std::string_view model_of(const llm::LlmCall& call) {
  const std::string& m = call.response_model.empty() ? call.request_model : call.response_model;
  return m.empty() ? std::string_view("unknown") : std::string_view(m);
}

constexpr std::string_view kCallsName = "llmtap_llm_calls_total";
constexpr std::string_view kCallsHelp = "LLM API calls seen";
constexpr std::string_view kTokensName = "llmtap_llm_tokens_total";
constexpr std::string_view kTokensHelp = "tokens used by LLM API calls";
constexpr std::string_view kCostName = "llmtap_llm_estimated_cost_usd";
constexpr std::string_view kCostHelp =
    "estimated cost of LLM API calls since start, from the price table";

// The handle in `slot` when cached, else looked up (and cached unless folded into "other").
template <typename T, typename Lookup>
T& cached(T*& slot, Lookup lookup) {
  if (slot != nullptr) return *slot;
  bool folded = false;
  T& found = lookup(&folded);
  if (!folded) slot = &found;
  return found;
}

}  // namespace

AgentMetrics::AgentMetrics(metrics::MetricRegistry& r)
    : r_(r),
      probes_(r.gauge("llmtap_probes_attached", "uprobes attached now")),
      files_(r.gauge("llmtap_tls_files_attached", "TLS library and executable files probed now")),
      held_now_(r.gauge("llmtap_processes_held", "processes stopped by llmtap right now")),
      hold_p50_(r.gauge("llmtap_hold_time_p50_seconds", "median stop-to-resume time of holds")),
      hold_p99_(r.gauge("llmtap_hold_time_p99_seconds", "99th percentile stop-to-resume time")),
      kernel_lost_(r.gauge("llmtap_events_lost",
                           "capture records lost since start: in the kernel (ring buffer full) "
                           "or in userspace (unreadable, orphaned)",
                           {{"stage", "kernel"}})),
      userspace_lost_(r.gauge("llmtap_events_lost",
                              "capture records lost since start: in the kernel (ring buffer full) "
                              "or in userspace (unreadable, orphaned)",
                              {{"stage", "userspace"}})),
      captured_calls_(r.gauge("llmtap_tls_calls_captured", "TLS reads and writes captured")),
      captured_bytes_(r.gauge("llmtap_tls_bytes_captured", "TLS bytes captured")),
      holds_(r.gauge("llmtap_holds", "processes held (stopped) by llmtap since start")) {}

AgentMetrics::CallSeries& AgentMetrics::call_series(std::string_view provider,
                                                    std::string_view model) {
  auto by_provider = call_series_.find(provider);
  if (by_provider != call_series_.end()) {
    const auto found = by_provider->second.find(model);
    if (found != by_provider->second.end()) return found->second;
  }
  if (cached_label_sets_ >= kMaxCachedLabelSets) {  // bounded: start over
    call_series_.clear();
    cached_label_sets_ = 0;
    by_provider = call_series_.end();
  }
  if (by_provider == call_series_.end()) {
    by_provider = call_series_.emplace(std::string(provider), StringMap<CallSeries>()).first;
  }
  ++cached_label_sets_;
  return by_provider->second.emplace(std::string(model), CallSeries()).first->second;
}

void AgentMetrics::on_call(const llm::LlmCall& call) {
  const std::string_view provider =
      call.provider.empty() ? std::string_view("unknown") : std::string_view(call.provider);
  const std::string_view model = model_of(call);
  CallSeries& series = call_series(provider, model);
  const auto labels = [&] {
    return metrics::Labels{{"provider", std::string(provider)}, {"model", std::string(model)}};
  };
  const auto tokens = [&](std::string_view kind) {
    return [&, kind](bool* folded) -> metrics::Counter& {
      auto l = labels();
      l.emplace_back("kind", std::string(kind));
      return r_.counter(kTokensName, kTokensHelp, l, folded);
    };
  };
  cached(series.calls, [&](bool* folded) -> metrics::Counter& {
    return r_.counter(kCallsName, kCallsHelp, labels(), folded);
  }).add();
  if (call.tokens.input) cached(series.input_tokens, tokens("input")).add(*call.tokens.input);
  if (call.tokens.output) cached(series.output_tokens, tokens("output")).add(*call.tokens.output);
  if (call.cost_usd) {
    cached(series.cost, [&](bool* folded) -> metrics::Gauge& {
      return r_.gauge(kCostName, kCostHelp, labels(), folded);
    }).add(*call.cost_usd);
  }
}

void AgentMetrics::on_finding(const policy::Finding& f) {
  if (f.update) return;  // counted when first made
  r_.counter("llmtap_findings_total", "policy findings",
             {{"rule", f.rule_id}, {"severity", std::string(policy::severity_name(f.severity))}})
      .add();
  if (f.outcome) {
    const policy::ActionOutcome& o = *f.outcome;
    const std::string result = o.audit        ? "audit"
                               : o.succeeded  ? "succeeded"
                               : o.attempted  ? "failed"
                                              : "refused";
    r_.counter("llmtap_actions_total", "enforcement actions by what and how they ended",
               {{"action", std::string(policy::action_name(o.action))}, {"result", result}})
        .add();
  }
}

void AgentMetrics::on_capture(const CaptureSnapshot& s) {
  capturing_.store(s.probes_attached > 0, std::memory_order_release);
  probes_.set(static_cast<double>(s.probes_attached));
  files_.set(static_cast<double>(s.files_attached));
  const uint64_t made = s.counters.holds + s.counters.prevent_holds;
  held_now_.set(made > s.holds_released ? static_cast<double>(made - s.holds_released) : 0);
  holds_.set(static_cast<double>(made));
  hold_p50_.set(static_cast<double>(s.hold_p50_ns) / 1e9);
  hold_p99_.set(static_cast<double>(s.hold_p99_ns) / 1e9);
  kernel_lost_.set(static_cast<double>(s.counters.lost_records + s.counters.lost_calls));
  userspace_lost_.set(static_cast<double>(s.malformed_records + s.orphaned_records));
  captured_calls_.set(static_cast<double>(s.counters.calls));
  captured_bytes_.set(static_cast<double>(s.counters.bytes));
}

void AgentMetrics::watch_sinks(const exporter::EventRouter& router) {
  router_ = &router;
  for (const auto& q : router.queues()) {
    const exporter::DeliveryQueue* queue = q.get();
    const metrics::Labels sink = {{"sink", queue->name()}};
    auto gauge = [&](const char* name, const char* help, auto read) {
      r_.gauge_fn(name, help, sink, [queue, read] { return static_cast<double>(read(queue->stats())); });
    };
    using S = exporter::DeliveryStats;
    gauge("llmtap_sink_queue_depth", "events in the sink's memory queue",
          [](const S& s) { return s.memory_records; });
    gauge("llmtap_sink_spool_bytes", "bytes in the sink's disk spool",
          [](const S& s) { return s.spool_bytes; });
    gauge("llmtap_sink_spool_events", "events in the sink's disk spool",
          [](const S& s) { return s.spool_records; });
    gauge("llmtap_sink_sent_events", "events the sink delivered since start",
          [](const S& s) { return s.sent; });
    gauge("llmtap_sink_errors", "failed deliveries since start (retried)",
          [](const S& s) { return s.failed_sends; });
    gauge("llmtap_sink_rejected_events", "events the destination refused for good",
          [](const S& s) { return s.rejected; });
    gauge("llmtap_sink_dropped_events", "events dropped (hand-off full, memory full, spool budget)",
          [](const S& s) { return s.dropped_handoff + s.dropped_memory + s.dropped_spool; });
    gauge("llmtap_sink_failing", "1 while the sink's destination fails",
          [](const S& s) { return s.failing ? 1 : 0; });
  }
}

void AgentMetrics::watch_stdout(const StdoutLines& out) {
  r_.gauge_fn("llmtap_stdout_backlog_bytes", "output waiting for stdout's reader", {},
              [&out] { return static_cast<double>(out.backlog_bytes()); });
  r_.gauge_fn("llmtap_stdout_dropped_events",
              "events not written to stdout: its reader fell behind by more than --stdout-backlog",
              {}, [&out] { return static_cast<double>(out.stats().dropped_lines); });
}

std::pair<bool, std::string> AgentMetrics::readiness() const {
  if (!capturing_.load(std::memory_order_acquire)) return {false, "probes not attached yet"};
  if (router_ != nullptr) {
    std::string failing;
    for (const auto& q : router_->queues()) {
      const auto s = q->stats();
      if (s.failing) failing += (failing.empty() ? "" : ", ") + q->name() + ": " + s.last_error;
    }
    if (!failing.empty()) return {false, "sinks failing: " + failing};
  }
  return {true, "ready"};
}

}  // namespace llmtap::cli
