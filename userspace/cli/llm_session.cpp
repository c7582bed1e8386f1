#include "cli/llm_session.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "action/enforcer.h"
#include "action/request_judge.h"
#include "action/socket_destroyer.h"
#include "cli/stop_signal.h"
#include "common/latency_histogram.h"
#include "enrich/cgroup_path_reader.h"
#include "enrich/kube_api_config.h"
#include "enrich/kube_pod_watcher.h"
#include "enrich/pod_directory.h"
#include "enrich/process_identity_cache.h"
#include "enrich/workload_resolver.h"
#include "pipeline/pod_wait_queue.h"
#include "llm/catalog/provider_catalog.h"
#include "llm/catalog/request_line_hints.h"
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

constexpr int kEnforcementNice = -10;

// The node whose pods are ours: --node-name, $NODE_NAME (the DaemonSet sets it from the
// downward API), else, inside a pod only, the host name (the kubelet's default node name).
std::string node_name_for(const std::string& flag, const enrich::KubeApiConfig& kube) {
  if (!flag.empty()) return flag;
  if (auto env = enrich::process_environment("NODE_NAME")) return *env;
  if (kube.source.rfind("in-cluster", 0) == 0) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') {
      spdlog::warn("kubernetes: NODE_NAME is not set; taking the host name '{}' as the node name",
                   host);
      return host;
    }
  }
  throw enrich::KubeConfigError("kubernetes: " + kube.source +
                                " gives the API server but not this node: set --node-name or "
                                "NODE_NAME");
}

struct PreventStats {
  uint64_t judged = 0;
  uint64_t allowed = 0;
  uint64_t blocked = 0;
  uint64_t exempted = 0;  // connections no hold rule applies to: not held again
  // Stop to resume: what a hold adds to an allowed write.
  LatencyHistogram allowed_hold_time{LatencyHistogram::kFineScaleNs};
  LatencyHistogram blocked_hold_time{LatencyHistogram::kFineScaleNs};
};

}  // namespace

int run_llm_session(const LlmSessionOptions& options, const LlmSessionHandlers& handlers) {
  const llm::ProviderCatalog catalog = load_catalog(options.catalog_files);
  spdlog::info("provider catalog: {} entries", catalog.size());

  llm::PriceTable prices = llm::PriceTable::builtin();
  for (const std::string& file : options.price_files) {
    prices.add_overrides(llm::PriceTable::from_file(file));
  }
  spdlog::info("price table: {} models, prices as of {}", prices.size(), prices.as_of());
  pipeline::PipelineOptions pipeline_options;
  pipeline_options.prices = &prices;
  pipeline_options.http.max_body_kept = options.max_body_bytes;
  pipeline_options.http.max_decoded_body = options.max_body_bytes;
  pipeline_options.extract.capture_text = options.include_content;
  pipeline_options.extract.max_text_bytes = options.content_limit;
  CaptureControl* control = nullptr;
  pipeline_options.quiet_connection = [&control](uint32_t pid, uint64_t ssl) {
    if (control != nullptr) control->quiet_connection(pid, ssl);
  };
  pipeline_options.quiet_until_llm_request = [&control](uint32_t pid, uint64_t ssl) {
    if (control != nullptr) control->quiet_connection_until_llm_request(pid, ssl);
  };
  pipeline_options.forget_quiet = [&control](uint32_t pid, uint64_t ssl) {
    if (control != nullptr) control->forget_quiet_connection(pid, ssl);
  };
  PolicySource policy_source(options.policy);
  if (handlers.on_policy) handlers.on_policy(*policy_source.current());
  policy::EngineOptions engine_options;
  engine_options.uid_prefix = options.finding_uid_prefix;
  policy::PolicyEngine engine(policy_source.current(), engine_options);
  action::EnforcerOptions enforcer_options;
  enforcer_options.audit = options.audit;
  enforcer_options.never_touch = options.never_touch;
  action::Enforcer enforcer(enforcer_options);

  // Containers always; pods when a cluster is configured (its API watched on its own thread).
  enrich::PodDirectory pods;
  std::unique_ptr<enrich::KubePodWatcher> pod_watcher;
  if (auto kube = enrich::find_kube_api_config(options.kubeconfig, options.kube_context)) {
    enrich::KubeWatchOptions watch_options;
    watch_options.node_name = node_name_for(options.node_name, *kube);
    pod_watcher = std::make_unique<enrich::KubePodWatcher>(std::move(*kube), watch_options, pods);
    pod_watcher->start();
  }
  const auto workloads = enrich::make_host_workload_resolver(pod_watcher ? &pods : nullptr);
  enrich::ProcessIdentityCache processes;
  processes.set_workload_resolver(workloads.get());
  using policy::Action;
  // Prevent mode: writes to LLM endpoints are held until judged when a rule holds (enforce).
  const std::vector<Action> kHeld = {Action::kHold};
  // Every other client write, as it is captured: the rules that reset or kill act before the
  // answer comes back (and `hold` rules act so on writes that could not be held).
  const std::vector<Action> kEarly = {Action::kKillConnection, Action::kKillProcess, Action::kHold};
  action::RequestJudge held_writes(catalog, policy_source.current(), processes,
                                   options.finding_uid_prefix, kHeld);
  action::RequestJudge early_writes(catalog, policy_source.current(), processes,
                                    options.finding_uid_prefix + "-early", kEarly,
                                    /*all_requests=*/false);
  CaptureSelection selection = options.capture;
  selection.prevent = !options.audit && action::RequestJudge::acts(*policy_source.current(), kHeld);
  // Both follow reloads (prevent mode itself is decided at start: the kernel side is set up
  // with the capture).
  bool judge_early = action::RequestJudge::acts(*policy_source.current(), kEarly);
  bool watch_llm_endpoints = selection.prevent || judge_early;
  PreventStats prevent;
  // LLM servers given to the kernel (to wake the reader on their writes, and hold them).
  std::set<std::string> llm_endpoints;
  auto endpoint_key = [](const capture::Endpoint& e) {
    return std::string(reinterpret_cast<const char*>(e.addr.data()), e.addr.size()) +
           std::to_string(e.port) + "/" + std::to_string(e.family);
  };
  auto hold_writes_to = [&](const capture::Endpoint& e) {
    if (control == nullptr || e.family == 0 || llm_endpoints.size() >= 4096) return;
    if (llm_endpoints.insert(endpoint_key(e)).second) control->hold_writes_to(e);
  };
  // (rule, connection) pairs already acted on when their request was written: the pipeline's
  // findings about the same call, once complete, are not acted on (or reported) again.
  std::set<std::pair<std::string, uint64_t>> acted;
  auto remember_acted = [&](const std::vector<policy::Finding>& findings) {
    for (const auto& f : findings) {
      if (f.call.conn_id != 0) acted.emplace(f.rule_id, f.call.conn_id);
    }
    if (acted.size() > 65536) acted.clear();  // bounded; a repeat is then reported twice
  };

  // A finished call: judged, acted on and reported (once its pod is known, or its wait over).
  auto on_llm_call = [&](const llm::LlmCall& call, const llm::CallBodies& bodies) {
        std::vector<policy::Finding> findings = engine.judge(call, bodies.request, bodies.response);
        std::erase_if(findings, [&](const policy::Finding& f) {
          return f.action != Action::kAlert && call.conn_id != 0 &&
                 acted.contains({f.rule_id, call.conn_id});
        });
        for (policy::Finding& f : findings) enforcer.act(f);
        // An LLM server seen: writes to it wake the reader at once, and in prevent mode are
        // held from the first byte of its next connections.
        if (control != nullptr && !call.served && watch_llm_endpoints) {
          hold_writes_to(call.remote);
        }
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
  };
  pipeline::PodWaitQueue pod_wait(
      *workloads,
      [&pod_watcher] {
        if (!pod_watcher) return false;
        const auto s = pod_watcher->stats();
        return s.synced && s.reachable;
      },
      std::chrono::milliseconds(options.pod_wait_ms), on_llm_call);
  pipeline::TrafficPipeline pipeline(
      catalog, pipeline_options, processes, realtime_ns,
      [&](const llm::LlmCall& call, const llm::CallBodies& bodies) {
        pod_wait.submit(call, bodies, monotonic_now_ns());
      });

  // A held write: judged now, its writer resumed or its connection destroyed first.
  auto on_held_write = [&](const capture::TlsCall& preview) {
    action::RequestVerdict v = held_writes.judge(preview, realtime_ns(preview.mono_ns));
    ++prevent.judged;
    const bool known_server = llm_endpoints.contains(endpoint_key(preview.remote));
    if (v.out_of_scope || (v.not_llm && !v.llm_request && !known_server)) {
      // No hold rule applies to this process, or the connection (to a server not known as an
      // LLM's: --hold-new-connections) is no LLM API traffic: it is not held again.
      control->exempt_from_write_holds(preview.pid, preview.ssl);
      ++prevent.exempted;
    } else if (v.llm_request && !known_server) {
      hold_writes_to(preview.remote);  // an LLM server: its next connections too
    }
    if (!v.block) {
      if (auto r = control->release_write_hold(preview.pid, false)) {
        prevent.allowed_hold_time.add(r->held_ns);
      }
      ++prevent.allowed;
      return;
    }
    ++prevent.blocked;
    const auto pid = static_cast<pid_t>(preview.pid);
    policy::ActionOutcome outcome;
    outcome.action = Action::kHold;
    outcome.target = "connection " + action::describe_connection(v.call);
    if (const auto why =
            enforcer.touch_guard().refusal(pid, v.call.process.comm, v.call.process.exe)) {
      control->release_write_hold(preview.pid, false);
      outcome.error = *why;
    } else {
      outcome.attempted = true;
      const action::DestroyResult d =
          action::destroy_tcp_connection(v.call.local, v.call.remote, pid);
      // Resumed (or killed) only now: the write it was stopped in fails on the reset socket.
      const auto released = control->release_write_hold(preview.pid, v.kill_process);
      outcome.succeeded = d.destroyed || (released && released->killed);
      outcome.prevented = released.has_value() && outcome.succeeded;
      if (!d.destroyed) outcome.error = d.message;
      if (v.kill_process) {
        outcome.target +=
            " and process " + v.call.process.comm + "[" + std::to_string(preview.pid) + "]";
      }
      if (released) prevent.blocked_hold_time.add(released->held_ns);
      const uint64_t now = monotonic_now_ns();
      if (now > preview.mono_ns) outcome.capture_to_action_ns = now - preview.mono_ns;
    }
    outcome.time_realtime_ns = realtime_ns(monotonic_now_ns());
    for (policy::Finding& f : v.findings) f.outcome = outcome;
    remember_acted(v.findings);
    if (handlers.on_findings) handlers.on_findings(v.findings);
  };

  // A client write as captured: the rules that reset or kill act on its request now (in audit
  // mode: report would_* now).
  auto on_client_write = [&](const capture::TlsCall& write) {
    if (write.direction != capture::Direction::kWrite || write.quiet || write.data.empty()) return;
    action::RequestVerdict v = early_writes.judge(write, realtime_ns(write.mono_ns));
    if (!v.block) return;
    std::erase_if(v.findings, [&](const policy::Finding& f) {
      return write.conn_id != 0 && acted.contains({f.rule_id, write.conn_id});
    });
    for (policy::Finding& f : v.findings) enforcer.act(f);
    remember_acted(v.findings);
    if (handlers.on_findings && !v.findings.empty()) handlers.on_findings(v.findings);
  };

  // Acting on calls is a race with the model's answer (and a held writer waits on us): run
  // ahead of ordinary processes (a nice value, not a real-time class: a busy llmtap still
  // cannot starve the host).
  if (watch_llm_endpoints && setpriority(PRIO_PROCESS, 0, kEnforcementNice) != 0) {
    spdlog::debug("cannot raise llmtap's priority: {}", std::strerror(errno));
  }

  uint64_t last_snapshot_ns = 0;
  CaptureHandlers capture;
  capture.on_start = [&](CaptureControl& c) {
    control = &c;
    std::vector<std::pair<std::string, bool>> paths;
    for (const auto& hint : llm::request_path_hints(catalog)) paths.emplace_back(hint.text, hint.suffix);
    c.set_llm_request_paths(paths);
    spdlog::debug("{} request path patterns resume connections quiet until an LLM request",
                  paths.size());
    if (watch_llm_endpoints) {
      for (const capture::Endpoint& e : options.hold_endpoints) hold_writes_to(e);
    }
    if (selection.prevent && c.preventing()) {
      spdlog::info(
          "prevent mode: writes to LLM endpoints are held until judged (deadline {} ms, "
          "fail-{})",
          selection.prevent_deadline_ms, selection.prevent_fail_closed ? "closed" : "open");
    }
  };
  capture.on_call = [&](const capture::TlsCall& call) {
    if (call.preview) {
      on_held_write(call);
      return;
    }
    if (judge_early) on_client_write(call);
    pipeline.on_tls_call(call);
  };
  capture.on_close = [&](const capture::TlsClose& close) {
    held_writes.forget(close.pid, close.ssl);
    early_writes.forget(close.pid, close.ssl);
    pipeline.on_tls_close(close);
  };
  capture.on_process_exit = [&](uint32_t pid, uint64_t mono_ns) {
    held_writes.forget_process(pid);
    early_writes.forget_process(pid);
    pipeline.on_process_exit(pid, mono_ns);
  };
  capture.after_poll = [&](uint64_t now) {
    if (auto fresh = policy_source.poll(take_reload_request(), now)) {
      engine.set_policy(fresh);
      held_writes.set_policy(fresh);
      early_writes.set_policy(fresh);
      judge_early = action::RequestJudge::acts(*fresh, kEarly);
      watch_llm_endpoints = selection.prevent || judge_early;
      // Scopes may have changed: every connection is held (and judged) again.
      if (control != nullptr && control->preventing()) control->clear_write_hold_exemptions();
    }
    pod_wait.poll(now);
    if (handlers.on_capture_snapshot && control != nullptr &&
        now - last_snapshot_ns >= 1'000'000'000) {
      handlers.on_capture_snapshot(control->snapshot());
      last_snapshot_ns = now;
    }
    return handlers.after_poll(now);
  };
  capture.at_end = [&](uint64_t now) {
    pipeline.finish(now);
    pod_wait.flush();
    if (handlers.on_findings) handlers.on_findings(engine.flush());
    if (handlers.before_end) {
      handlers.before_end([&](uint32_t pid) -> std::shared_ptr<const llm::WorkloadIdentity> {
        const auto cgroup = enrich::cgroup_id_of_process(pid);
        return cgroup ? workloads->resolve(pid, *cgroup) : nullptr;
      });
    }
    return handlers.at_end(now);
  };
  const int status = run_capture(selection, options.duration_seconds, capture);
  log_pipeline_summary(pipeline);
  const action::EnforcerStats& a = enforcer.stats();
  spdlog::info(
      "action summary: audit={} actions={} would={} connections_reset={} processes_killed={} "
      "refused={} failed={} already_done={}",
      options.audit ? 1 : 0, a.actions, a.would, a.connections_reset, a.processes_killed, a.refused,
      a.failed, a.already_done);
  if (selection.prevent) {
    const auto us = [](uint64_t ns) { return ns / 1000; };
    spdlog::info(
        "prevent summary: held_writes={} allowed={} blocked={} exempted_connections={} "
        "whole_requests={} partial={} allowed_hold_us_p50={} allowed_hold_us_p99={} "
        "blocked_hold_us_p50={} "
        "blocked_hold_us_p99={}",
        prevent.judged, prevent.allowed, prevent.blocked, prevent.exempted,
        held_writes.stats().whole_requests, held_writes.stats().partial,
        us(prevent.allowed_hold_time.percentile(0.5)),
        us(prevent.allowed_hold_time.percentile(0.99)),
        us(prevent.blocked_hold_time.percentile(0.5)),
        us(prevent.blocked_hold_time.percentile(0.99)));
  }
  const enrich::WorkloadResolverStats& w = workloads->stats();
  const pipeline::PodWaitStats& pw = pod_wait.stats();
  spdlog::info(
      "workload summary: cgroups_resolved={} cgroups_unknown={} proc_cgroup_reads={} "
      "pod_refreshes={} pods_live={} pods_deleted={} pod_waits={} pod_waits_resolved={} "
      "pod_waits_timed_out={} pod_wait_overflow={}",
      w.cgroups_resolved, w.cgroups_unknown, w.proc_cgroup_reads, w.pod_refreshes,
      pods.live_pods(), pods.deleted_pods(), pw.waited, pw.resolved, pw.timed_out, pw.overflow);
  if (pod_watcher) {
    const enrich::KubeWatchStats k = pod_watcher->stats();
    spdlog::info(
        "kubernetes summary: synced={} lists={} watches={} events={} relists_after_gone={} "
        "request_errors={} auth_failures={} bad_events={}",
        k.synced ? 1 : 0, k.lists, k.watches, k.events, k.relists_after_gone, k.request_errors,
        k.auth_failures, k.bad_events);
  }
  const policy::EngineStats& e = engine.stats();
  spdlog::info(
      "policy summary: judged_calls={} findings={} suppressed_repeats={} scanned_bytes={} "
      "scan_cache_hits={} dropped_detections={} policy_reloads={} failed_reloads={}",
      e.calls, e.findings, e.suppressed_repeats, e.scanned_bytes, e.scan_cache_hits,
      e.dropped_detections, policy_source.reloads(), policy_source.failed_reloads());
  return status;
}

}  // namespace llmtap::cli
