#include "cli/llm_session.h"

#include <spdlog/spdlog.h>

#include "action/enforcer.h"
#include "cli/stop_signal.h"
#include "enrich/process_identity_cache.h"
#include "llm/catalog/provider_catalog.h"
#include "pipeline/traffic_pipeline.h"
#include "policy/policy_engine.h"

namespace llmtap::cli {
namespace {

llm::ProviderCatalog load_catalog(const std::vector<std::string>& user_files) {
  llm::ProviderCatalog catalog = llm::ProviderCatalog::builtin();
  // Later files win over earlier ones, and all of them over the built-in catalog.
  for (const std::string& file : user_files) {
    catalog.add_overrides(llm::ProviderCatalog::from_file(file));
    spdlog::info("catalog {} loaded", file);
  }
  return catalog;
}

void log_pipeline_summary(const pipeline::TrafficPipeline& p) {
  const pipeline::PipelineStats& s = p.stats();
  const http::HttpConnectionStats h = p.http_stats();
  const llm::LlmCallBuilderStats& b = p.builder_stats();
  spdlog::info(
      "pipeline summary: llm_calls={} exchanges={} tls_calls={} tls_bytes={} "
      "connections={} evicted={} gaps={} resyncs={} resync_dropped_calls={} quieted_connections={} "
      "quiet_calls={} filtered_requests={} non_http_connections={} "
      "ignored_bytes={} bodies_over_budget={} http_errors={} request_parse_failures={} "
      "response_parse_failures={} "
      "stream_decode_errors={} streams_without_end={}",
      s.llm_calls, s.exchanges, s.tls_calls, s.tls_bytes, s.connections_opened,
      s.connections_evicted, s.gaps, s.resyncs, s.resync_dropped_calls, s.quieted_connections,
      s.quiet_calls, h.filtered_requests, h.non_http_connections, h.ignored_bytes,
      h.bodies_over_budget, h.parse_errors, b.request_parse_failures, b.response_parse_failures,
      b.stream_decode_errors, b.streams_without_end);
}

}  // namespace

int run_llm_session(const LlmSessionOptions& options, const LlmSessionHandlers& handlers) {
  const llm::ProviderCatalog catalog = load_catalog(options.catalog_files);
  spdlog::info("provider catalog: {} entries", catalog.size());

  pipeline::PipelineOptions pipeline_options;
  pipeline_options.http.max_body_kept = options.max_body_bytes;
  pipeline_options.http.max_decoded_body = options.max_body_bytes;
  pipeline_options.extract.capture_text = options.include_content;
  pipeline_options.extract.max_text_bytes = options.content_limit;
  CaptureControl* control = nullptr;
  pipeline_options.quiet_connection = [&control](uint32_t pid, uint64_t ssl) {
    if (control != nullptr) control->quiet_connection(pid, ssl);
  };
  PolicySource policy_source(options.policy);
  policy::EngineOptions engine_options;
  engine_options.uid_prefix = options.finding_uid_prefix;
  policy::PolicyEngine engine(policy_source.current(), engine_options);
  action::EnforcerOptions enforcer_options;
  enforcer_options.audit = options.audit;
  enforcer_options.never_touch = options.never_touch;
  action::Enforcer enforcer(enforcer_options);

  enrich::ProcessIdentityCache processes;
  pipeline::TrafficPipeline pipeline(
      catalog, pipeline_options, processes, realtime_ns,
      [&](const llm::LlmCall& call, const llm::CallBodies& bodies) {
        std::vector<policy::Finding> findings = engine.judge(call, bodies.request, bodies.response);
        for (policy::Finding& f : findings) enforcer.act(f);
        if (!call.prompt_text && !call.completion_text) {
          handlers.on_call(call, findings);
          return;
        }
        // Content is only shown with every secret the detectors know redacted.
        llm::LlmCall shown = call;
        const auto policy = engine.policy();
        if (shown.prompt_text) shown.prompt_text = policy->scanner->redact(*shown.prompt_text);
        if (shown.completion_text) {
          shown.completion_text = policy->scanner->redact(*shown.completion_text);
        }
        handlers.on_call(shown, findings);
      });

  CaptureHandlers capture;
  capture.on_start = [&control](CaptureControl& c) { control = &c; };
  capture.on_call = [&](const capture::TlsCall& call) { pipeline.on_tls_call(call); };
  capture.on_close = [&](const capture::TlsClose& close) { pipeline.on_tls_close(close); };
  capture.on_process_exit = [&](uint32_t pid, uint64_t mono_ns) {
    pipeline.on_process_exit(pid, mono_ns);
  };
  capture.after_poll = [&](uint64_t now) {
    if (auto fresh = policy_source.poll(take_reload_request(), now)) engine.set_policy(fresh);
    return handlers.after_poll(now);
  };
  capture.at_end = [&](uint64_t now) {
    pipeline.finish(now);
    if (handlers.on_findings) handlers.on_findings(engine.flush());
    return handlers.at_end(now);
  };
  const int status = run_capture(options.capture, options.duration_seconds, capture);
  log_pipeline_summary(pipeline);
  const action::EnforcerStats& a = enforcer.stats();
  spdlog::info(
      "action summary: mode={} actions={} would={} connections_reset={} processes_killed={} "
      "refused={} failed={} already_done={}",
      options.audit ? "audit" : "enforce", a.actions, a.would, a.connections_reset,
      a.processes_killed, a.refused, a.failed, a.already_done);
  const policy::EngineStats& e = engine.stats();
  spdlog::info(
      "policy summary: judged_calls={} findings={} suppressed_repeats={} scanned_bytes={} "
      "dropped_detections={} policy_reloads={} failed_reloads={}",
      e.calls, e.findings, e.suppressed_repeats, e.scanned_bytes, e.dropped_detections,
      policy_source.reloads(), policy_source.failed_reloads());
  return status;
}

}  // namespace llmtap::cli
