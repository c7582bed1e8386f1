#include "cli/daemon_command.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <memory>

#include "cli/agent_identity.h"
#include "cli/agent_metrics.h"
#include "metrics/metrics_server.h"
#include "cli/stdout_lines.h"
#include "export/event_router.h"
#include "export/sink_formatter.h"
#include "sink/ocsf_finding.h"
#include "sink/ocsf_http_activity.h"

namespace llmtap::cli {
namespace {

constexpr uint64_t kNsPerMs = 1'000'000;

void log_sink_summary(const exporter::EventRouter& router) {
  for (const auto& q : router.queues()) {
    const exporter::DeliveryStats s = q->stats();
    spdlog::info(
        "sink {} summary: submitted={} sent={} filtered={} rejected={} failed_sends={} "
        "spooled={} spool_records={} dropped_handoff={} dropped_memory={} dropped_spool={}",
        q->name(), s.submitted, s.sent, s.filtered, s.rejected, s.failed_sends, s.spooled,
        s.spool_records, s.dropped_handoff, s.dropped_memory, s.dropped_spool);
  }
}

}  // namespace

int run_daemon(const DaemonOptions& options) {
  const ExportSetup setup = build_export_setup(options.exports);
  StdoutLines out(options.stdout_backlog_bytes);
  const sink::OcsfContext context = ocsf_context();
  exporter::RouterIdentity identity{context.hostname, std::to_string(::getpid())};
  exporter::EventRouter router(setup.config, identity);
  metrics::MetricRegistry registry;
  AgentMetrics agent_metrics(registry);
  agent_metrics.watch_sinks(router);
  agent_metrics.watch_stdout(out);
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  if (setup.config.metrics) {
    metrics::MetricsServerOptions mo;
    mo.address = setup.config.metrics_address;
    mo.readiness = [&agent_metrics] { return agent_metrics.readiness(); };
    metrics_server = std::make_unique<metrics::MetricsServer>(registry, mo);
    metrics_server->start();  // throws naming the address when it is taken
    spdlog::info("metrics on {} (port {}): /metrics /healthz /readyz", mo.address,
                 metrics_server->port());
  }
  const bool stdout_as_is = setup.stdout_sink.format == exporter::SinkFormat::kOcsf &&
                            !setup.stdout_sink.filter.edits_fields() &&
                            setup.stdout_sink.filter.min_severity == 0 &&
                            setup.stdout_sink.filter.llm_calls &&
                            setup.stdout_sink.filter.findings;

  // One OCSF line, made once, to stdout and every sink. `line` ends in its newline.
  std::string line;
  auto emit = [&](exporter::EventKind kind, uint8_t severity_id, uint64_t time_ms) {
    if (setup.write_stdout && stdout_as_is) {
      out.buffer() += line;
    }
    if (router.empty() && (stdout_as_is || !setup.write_stdout)) return;
    auto event = std::make_shared<exporter::ExportEvent>();
    event->json.assign(line, 0, line.size() - 1);
    event->kind = kind;
    event->severity_id = severity_id;
    event->time_ms = time_ms;
    if (setup.write_stdout && !stdout_as_is) {
      if (auto r = exporter::format_for_sink(setup.stdout_sink, *event)) {
        out.buffer() += r->payload;
        out.buffer() += '\n';
      }
    }
    router.publish(std::move(event));
  };
  // Events that go to stdout as they are and nowhere else are written straight into its buffer
  // (no copy of the line).
  const bool stdout_only = setup.write_stdout && stdout_as_is && router.empty();
  auto emit_finding = [&](const policy::Finding& f) {
    agent_metrics.on_finding(f);
    if (stdout_only) {
      sink::append_ocsf_finding(f, context, out.buffer());
      return;
    }
    line.clear();
    sink::append_ocsf_finding(f, context, line);
    emit(exporter::EventKind::kFinding, static_cast<uint8_t>(f.severity),
         f.time_realtime_ns / kNsPerMs);
  };

  LlmSessionHandlers handlers;
  handlers.on_call = [&](const llm::LlmCall& call, const std::vector<policy::Finding>& findings) {
    agent_metrics.on_call(call);
    if (stdout_only) {
      sink::append_ocsf_http_activity(call, context, out.buffer());
      out.flush_if_full();
    } else {
      line.clear();
      sink::append_ocsf_http_activity(call, context, line);
      emit(exporter::EventKind::kLlmCall, 1, call.start_realtime_ns / kNsPerMs);
    }
    for (const auto& f : findings) emit_finding(f);
  };
  handlers.on_findings = [&](const std::vector<policy::Finding>& findings) {
    for (const auto& f : findings) emit_finding(f);
  };
  handlers.after_poll = [&](uint64_t) { return out.flush(); };
  handlers.on_capture_snapshot = [&](const CaptureSnapshot& s) { agent_metrics.on_capture(s); };
  handlers.at_end = [&](uint64_t) { return out.finish(); };
  LlmSessionOptions session = options.session;
  session.finding_uid_prefix = context.uid_prefix;
  const int status = run_llm_session(session, handlers);
  if (metrics_server) metrics_server->stop();
  router.stop();
  log_sink_summary(router);
  return status;
}

}  // namespace llmtap::cli
