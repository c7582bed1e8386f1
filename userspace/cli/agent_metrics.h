#pragma once
// The daemon's Prometheus metrics: what it saw (calls, tokens, cost by provider and model),
// what it decided (findings by rule and severity, actions), what it lost (kernel and userspace,
// apart), the capture's state (probes, holds) and each sink's delivery (queue depth, spool,
// errors, drops). Updated on the pipeline thread; read by the metrics server's thread.

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cli/capture_session.h"
#include "cli/stdout_lines.h"
#include "export/event_router.h"
#include "llm/llm_call.h"
#include "metrics/metric_registry.h"
#include "policy/finding.h"

namespace llmtap::cli {

class AgentMetrics {
 public:
  // Label sets of calls (provider, model) whose series handles are kept; past this the cache
  // starts over (label values come from traffic).
  static constexpr size_t kMaxCachedLabelSets = 4096;

  explicit AgentMetrics(metrics::MetricRegistry& registry);

  void on_call(const llm::LlmCall& call);
  void on_finding(const policy::Finding& finding);
  void on_capture(const CaptureSnapshot& snapshot);
  void watch_sinks(const exporter::EventRouter& router);
  // stdout's backlog and what it dropped; `out` must outlive the registry's readers.
  void watch_stdout(const StdoutLines& out);

  // Ready: probes attached and no sink failing; else why not (for /readyz).
  std::pair<bool, std::string> readiness() const;

  // Label sets whose handles are cached now (for tests).
  size_t cached_label_sets() const { return cached_label_sets_; }

 private:
  // The series of one (provider, model), looked up in the registry (under its lock) on first
  // use only. A handle stays null while the registry folds the label set into "other": such
  // lookups are counted as dropped by the registry each time, so they are not cached.
  struct CallSeries {
    metrics::Counter* calls = nullptr;
    metrics::Counter* input_tokens = nullptr;
    metrics::Counter* output_tokens = nullptr;
    metrics::Gauge* cost = nullptr;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

  CallSeries& call_series(std::string_view provider, std::string_view model);

  metrics::MetricRegistry& r_;
  metrics::Gauge& probes_;
  metrics::Gauge& files_;
  metrics::Gauge& held_now_;
  metrics::Gauge& hold_p50_;
  metrics::Gauge& hold_p99_;
  metrics::Gauge& kernel_lost_;
  metrics::Gauge& userspace_lost_;
  metrics::Gauge& captured_calls_;
  metrics::Gauge& captured_bytes_;
  metrics::Gauge& holds_;
  std::atomic<bool> capturing_{false};
  const exporter::EventRouter* router_ = nullptr;
  StringMap<StringMap<CallSeries>> call_series_;  // provider -> model -> handles
  size_t cached_label_sets_ = 0;
};

}  // namespace llmtap::cli
