#pragma once
// The daemon's Prometheus metrics: what it saw (calls, tokens, cost by provider and model),
// what it decided (findings by rule and severity, actions), what it lost (kernel and userspace,
// apart), the capture's state (probes, holds) and each sink's delivery (queue depth, spool,
// errors, drops). Updated on the pipeline thread; read by the metrics server's thread.

#include <atomic>
#include <string>

#include "cli/capture_session.h"
#include "export/event_router.h"
#include "llm/llm_call.h"
#include "metrics/metric_registry.h"
#include "policy/finding.h"

namespace llmtap::cli {

class AgentMetrics {
 public:
  explicit AgentMetrics(metrics::MetricRegistry& registry);

  void on_call(const llm::LlmCall& call);
  void on_finding(const policy::Finding& finding);
  void on_capture(const CaptureSnapshot& snapshot);
  void watch_sinks(const exporter::EventRouter& router);

  // Ready: probes attached and no sink failing; else why not (for /readyz).
  std::pair<bool, std::string> readiness() const;

 private:
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
};

}  // namespace llmtap::cli
