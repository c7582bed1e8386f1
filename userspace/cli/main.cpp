// llmtap: see every request this host makes to an AI model API, even over TLS.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "capture/capture_error.h"
#include "capture/hold_guard.h"
#include "capture/ring_size.h"
#include "enrich/kube_api_config.h"
#include "cli/audit_command.h"
#include "cli/catalog_command.h"
#include "cli/daemon_command.h"
#include "cli/policy_command.h"
#include "cli/trace_command.h"
#include "cli/watch_command.h"
#include "llm/catalog/provider_catalog.h"
#include "policy/severity.h"
#include "llmtap_abi.h"

namespace {

void setup_logging(int verbosity) {
  auto logger = spdlog::stderr_color_mt("llmtap");
  logger->set_pattern("llmtap %^%l%$: %v");
  logger->set_level(verbosity >= 2   ? spdlog::level::trace
                    : verbosity == 1 ? spdlog::level::debug
                                     : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void add_capture_options(CLI::App* cmd, llmtap::cli::CaptureSelection& c) {
  cmd->add_option("--pid", c.pid, "Only this process (tgid)");
  cmd->add_option("--comm", c.comm, "Only processes with this command name (15 chars)");
  cmd->add_option("--cgroup", c.cgroup, "Only processes in this cgroup v2 directory or below it")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("!--no-discovery", c.scan_processes,
                "Probe only the system libraries and --lib files, not what processes map");
  cmd->add_flag("!--no-hold", c.hold_while_attaching,
                "Never stop a process that connects while its TLS library is attached");
  cmd->add_option("--hold-deadline", c.hold_deadline_ms,
                  "The kernel resumes a held process after this many ms at the latest")
      ->default_val(LLMTAP_DEFAULT_HOLD_DEADLINE_NS / 1000000)
      ->check(CLI::Range(10u, 5000u));
  cmd->add_option("--lib", c.libs,
                  "Also probe this library or executable (OpenSSL inside), repeatable")
      ->check(CLI::ExistingFile);
  cmd->add_option("--max-bytes", c.max_bytes,
                  "Bytes captured per TLS call before the call counts as truncated")
      ->default_val(LLMTAP_DEFAULT_MAX_BYTES)
      ->check(CLI::Range(1u, LLMTAP_MAX_BYTES_LIMIT));
  cmd->add_flag("--syscall-hooks", c.syscall_hooks,
                "Learn TLS sockets from syscall tracepoints (as before Linux 6.3), which slow "
                "every syscall on the host; by default the socket layer's tracepoints are used");
  cmd->add_option("--ring-buffer-size", c.ring_buffer_bytes,
                  "Kernel ring buffer bytes (rounded up to a power of two). Default: 32 calls "
                  "at --max-bytes, 32 to 256 MiB (32 MiB with the default --max-bytes)")
      ->check(CLI::Range(4096u, llmtap::capture::kMaxRingBytes));
}

constexpr const char* kStdoutBacklogHelp =
    "Bytes of output kept for a slow stdout reader; past them lines are dropped (counted) and "
    "the capture and the policy's actions go on (default 64 MiB)";

void add_stdout_backlog_option(CLI::App* cmd, size_t& bytes, const char* help) {
  cmd->add_option("--stdout-backlog", bytes, help)
      ->default_val(bytes)
      ->check(CLI::Range(size_t{0}, size_t{1} << 30));
}

void add_duration_option(CLI::App* cmd, double& seconds) {
  cmd->add_option("--duration", seconds, "Stop after this many seconds")
      ->check(CLI::NonNegativeNumber);
}

void add_policy_options(CLI::App* cmd, llmtap::cli::PolicyFiles& p) {
  cmd->add_option("--policy", p.policies,
                  "Policy YAML added to the built-in pack; later files win (repeatable)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--secrets-rules", p.secrets_rules,
                  "A gitleaks rule file (TOML) whose rules join the secret detectors (repeatable)")
      ->check(CLI::ExistingFile);
}

void add_export_options(CLI::App* cmd, llmtap::cli::ExportFlags& e) {
  cmd->add_option("--config", e.config_file, llmtap::cli::kConfigFileHelp)
      ->check(CLI::ExistingFile);
  cmd->add_option("--format", e.stdout_format, "stdout's format: ocsf (default) or ecs")
      ->check(CLI::IsMember({"ocsf", "ecs"}));
  cmd->add_flag("--no-stdout", e.no_stdout, "Write no events to stdout (sinks only)");
  cmd->add_option("--output-file", e.output_file,
                  "Also write events as JSON lines to this file (rotated at 100 MiB, 5 kept)");
  cmd->add_option("--syslog", e.syslog_url,
                  "Also send events to syslog (RFC 5424): udp://HOST[:514], tcp://HOST[:514] or "
                  "tls://HOST[:6514]");
  cmd->add_option("--syslog-format", e.syslog_format, "ocsf (default), ecs or cef")
      ->check(CLI::IsMember({"ocsf", "ecs", "cef"}));
  cmd->add_option("--splunk-hec", e.splunk_hec_url,
                  "Also send events to a Splunk HTTP Event Collector (https://HOST:8088)");
  cmd->add_option("--splunk-token-file", e.splunk_token_file, "The HEC token's file")
      ->check(CLI::ExistingFile);
  cmd->add_option("--elastic", e.elastic_url,
                  "Also send events (ECS) to Elasticsearch's _bulk API (https://HOST:9200)");
  cmd->add_option("--elastic-api-key-file", e.elastic_api_key_file, "The Elastic API key's file")
      ->check(CLI::ExistingFile);
  cmd->add_option("--webhook", e.webhook_url, "Also POST events as JSON arrays to this URL");
  cmd->add_option("--sink-ca-file", e.ca_file,
                  "CA bundle (PEM) the network sinks' servers must chain to (default: the "
                  "system's)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--spool-dir", e.spool_dir,
                  "Where network sinks keep events while their destination is down (default "
                  "/var/lib/llmtap/spool)");
  cmd->add_option("--metrics-address", e.metrics_address,
                  "Prometheus metrics and health endpoints (default :9464; off: none)");
}

void add_llm_options(CLI::App* cmd, llmtap::cli::LlmSessionOptions& o) {
  add_policy_options(cmd, o.policy);
  cmd->add_option_function<std::string>(
         "--mode", [&o](const std::string& mode) { o.audit = mode == "audit"; },
         "enforce: rules' actions are taken (the default; the built-in pack only alerts); "
         "audit: every action is reported as would_<action> and nothing is touched")
      ->check(CLI::IsMember({"enforce", "audit"}));
  cmd->add_option("--prevent-deadline", o.capture.prevent_deadline_ms,
                  "Prevent mode: a held write is released (or, fail-closed, its process killed) "
                  "this many ms after it was held if no judgement came")
      ->default_val(250)
      ->check(CLI::Range(10, 10000));
  cmd->add_option_function<std::string>(
         "--prevent-fail",
         [&o](const std::string& v) { o.capture.prevent_fail_closed = v == "closed"; },
         "Prevent mode, when no judgement comes in time (or llmtap dies): open (resume the "
         "writer, the default) or closed (kill it: nothing unjudged leaves)")
      ->check(CLI::IsMember({"open", "closed"}));
  cmd->add_option_function<std::vector<std::string>>(
      "--hold-endpoint",
      [&o](const std::vector<std::string>& values) {
        for (const auto& v : values) {
          const auto e = llmtap::capture::parse_endpoint(v);
          if (!e) throw CLI::ValidationError("--hold-endpoint", "not ADDRESS:PORT: " + v);
          o.hold_endpoints.push_back(*e);
        }
      },
      "Prevent mode: an LLM server (1.2.3.4:443, [2001:db8::1]:443) whose connections' "
      "writes are held from the first one (others are learned from the calls seen; "
      "repeatable)");
  cmd->add_flag("--hold-new-connections", o.capture.prevent_new_connections,
                "Prevent mode: also hold the first write of every TLS connection to an endpoint "
                "not yet known as an LLM server, so the first call to a new one is judged before "
                "it leaves (costs one hold per such connection; the others are then exempted)");
  cmd->add_option("--never-touch", o.never_touch,
                  "A command name, or an executable path with '/', that no action may stop or "
                  "kill (glob; repeatable; added to the defaults: container runtimes, kubelet, "
                  "sshd, systemd, llmtap)");
  cmd->add_option("--kubeconfig", o.kubeconfig,
                  "Kubernetes: the kubeconfig naming the API server and credentials (else "
                  "$KUBECONFIG, else the in-cluster service account); pods are then named in "
                  "records")
      ->check(CLI::ExistingFile);
  cmd->add_option("--kube-context", o.kube_context,
                  "Kubernetes: the kubeconfig context (default: its current-context)");
  cmd->add_option("--node-name", o.node_name,
                  "Kubernetes: this node's name, whose pods are watched (default: $NODE_NAME)");
  cmd->add_option("--pod-wait", o.pod_wait_ms,
                  "Kubernetes: ms a record about a pod not yet known may wait for the API "
                  "to tell of it (0: never wait)")
      ->default_val(2000)
      ->check(CLI::Range(0, 60000));
  cmd->add_option("--prices", o.price_files,
                  "A price table YAML (as policies/prices.yaml) whose models are priced before "
                  "the built-in table's, for the estimated cost of calls (repeatable)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--catalog", o.catalog_files,
                  "Extra provider catalog YAML, tried before the built-in one (repeatable)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--include-content", o.include_content,
                "Put prompt and completion text in records (off by default)");
  cmd->add_option("--content-limit", o.content_limit, "Bytes of prompt/completion text kept")
      ->default_val(4096)
      ->check(CLI::Range(size_t{1}, size_t{1} << 24));
  cmd->add_option("--max-body", o.max_body_bytes,
                  "Body bytes kept per HTTP message for parsing (longer bodies are counted)")
      ->default_val(size_t{8} << 20)
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"llmtap: see and control what this host sends to AI model APIs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("llmtap ") + LLMTAP_VERSION);
  int verbosity = 0;
  app.add_flag("-v,--verbose", verbosity, "More log detail on stderr (-vv for libbpf's log)");

  llmtap::cli::TraceOptions trace;
  auto* trace_cmd =
      app.add_subcommand("trace", "Write every captured TLS read/write as a JSON line on stdout");
  add_capture_options(trace_cmd, trace.capture);
  add_duration_option(trace_cmd, trace.duration_seconds);
  add_stdout_backlog_option(trace_cmd, trace.stdout_backlog_bytes,
                            "Bytes of output kept for a slow stdout reader before trace waits "
                            "for it (default none: the kernel ring holds what comes meanwhile)");

  llmtap::cli::DaemonOptions daemon;
  auto* daemon_cmd = app.add_subcommand(
      "daemon",
      "Report every LLM API call on the host, and every finding, as OCSF events on stdout and "
      "to the configured sinks");
  add_capture_options(daemon_cmd, daemon.session.capture);
  add_duration_option(daemon_cmd, daemon.session.duration_seconds);
  add_llm_options(daemon_cmd, daemon.session);
  add_export_options(daemon_cmd, daemon.exports);
  add_stdout_backlog_option(daemon_cmd, daemon.stdout_backlog_bytes, kStdoutBacklogHelp);

  llmtap::cli::WatchOptions watch;
  auto* watch_cmd = app.add_subcommand(
      "watch", "Show LLM API calls as they happen, with a summary by provider and model");
  add_capture_options(watch_cmd, watch.session.capture);
  add_duration_option(watch_cmd, watch.session.duration_seconds);
  add_llm_options(watch_cmd, watch.session);
  add_stdout_backlog_option(watch_cmd, watch.stdout_backlog_bytes, kStdoutBacklogHelp);
  watch_cmd
      ->add_option("--summary-interval", watch.summary_interval_seconds,
                   "Seconds between summaries (0: only at exit)")
      ->default_val(60)
      ->check(CLI::NonNegativeNumber);
  std::string color = "auto";
  watch_cmd->add_option("--color", color, "Colour errors: auto, always or never")
      ->default_val("auto")
      ->check(CLI::IsMember({"auto", "always", "never"}));

  llmtap::cli::AuditOptions audit;
  audit.session.duration_seconds = 60;
  audit.session.audit = true;  // an audit reports what rules would do; it never acts
  auto* audit_cmd = app.add_subcommand(
      "audit",
      "One-shot audit of this host: inventory (TLS stacks, API keys in environments, local model "
      "servers, model files), then every LLM call for --duration seconds with the policy; one "
      "report. Exit 0 clean, 1 findings at or above --fail-on, 2 could not run");
  audit_cmd
      ->add_option("--duration", audit.session.duration_seconds,
                   "Seconds of the live window (0: inventory only)")
      ->default_val(60)
      ->check(CLI::NonNegativeNumber);
  add_policy_options(audit_cmd, audit.session.policy);
  audit_cmd->add_option("--format", audit.format, "The report's form: table, json or markdown")
      ->default_val("table")
      ->check(CLI::IsMember({"table", "json", "markdown"}));
  audit_cmd->add_option("--output", audit.output_file, "Write the report here instead of stdout");
  audit_cmd->add_option("--html", audit.html_file,
                        "Also write the report as one self-contained HTML page with charts");
  audit_cmd
      ->add_option_function<std::string>(
          "--fail-on",
          [&audit](const std::string& v) {
            audit.fail_on = v == "never" ? std::nullopt : llmtap::policy::parse_severity(v);
          },
          "Exit 1 when a finding is at least this severe: info, low, medium, high (default), "
          "critical, or never")
      ->check(CLI::IsMember({"info", "low", "medium", "high", "critical", "never"}));
  audit_cmd->add_option("--model-root", audit.model_roots,
                        "Where to look for model files (repeatable; default /root /home /opt "
                        "/srv /var/lib /usr/local /usr/share/ollama /models /data /mnt)");
  audit_cmd->add_option("--catalog", audit.session.catalog_files,
                        "Extra provider catalog YAML, tried before the built-in one (repeatable)")
      ->check(CLI::ExistingFile);
  audit_cmd->add_option("--prices", audit.session.price_files,
                        "A price table YAML priced before the built-in one (repeatable)")
      ->check(CLI::ExistingFile);
  audit_cmd->add_option("--kubeconfig", audit.session.kubeconfig,
                        "Kubernetes: the kubeconfig (else $KUBECONFIG, else in-cluster)")
      ->check(CLI::ExistingFile);
  audit_cmd->add_option("--kube-context", audit.session.kube_context, "Kubernetes: the context");
  audit_cmd->add_option("--node-name", audit.session.node_name,
                        "Kubernetes: this node's name (default: $NODE_NAME)");
  add_capture_options(audit_cmd, audit.session.capture);

  std::vector<std::string> catalog_files;
  auto* catalog_cmd = app.add_subcommand(
      "check-catalog", "Validate provider catalog files (errors name file:line:column)");
  catalog_cmd->add_option("files", catalog_files, "Catalog YAML files")->required();

  llmtap::cli::PolicyFiles policy_files;
  auto* policy_cmd = app.add_subcommand("policy", "Check and show policies");
  policy_cmd->require_subcommand(1);
  auto* validate_cmd = policy_cmd->add_subcommand(
      "validate", "Check policy files (errors name file:line:column and the rule); exit 1 on any");
  validate_cmd->add_option("files", policy_files.policies, "Policy YAML files");
  validate_cmd->add_option("--secrets-rules", policy_files.secrets_rules, "gitleaks TOML files");
  auto* show_cmd = policy_cmd->add_subcommand("show", "Print the effective policy");
  add_policy_options(show_cmd, policy_files);

  // Started by llmtap itself (never by hand): see capture/hold_guard.h.
  llmtap::capture::HoldGuardOptions guard;
  int guard_deadline_ms = 500;
  auto* guard_cmd = app.add_subcommand("hold-guard", "")->group("");
  guard_cmd->add_option("--pins", guard.pin_dir)->required();
  guard_cmd->add_option("--agent", guard.agent_pid)->required();
  guard_cmd->add_option("--deadline-ms", guard_deadline_ms)->required();
  guard_cmd->add_option("--ready-fd", guard.ready_fd);
  guard_cmd->add_option("--agent-fd", guard.agent_fd);

  CLI11_PARSE(app, argc, argv);
  setup_logging(verbosity);
  // The audit's output is its report: only warnings and errors on stderr unless asked.
  if (audit_cmd->parsed() && verbosity == 0) spdlog::set_level(spdlog::level::warn);
  if (guard_cmd->parsed()) {
    guard.deadline = std::chrono::milliseconds(guard_deadline_ms);
    return llmtap::capture::run_hold_guard(guard);
  }

  try {
    if (trace_cmd->parsed()) return llmtap::cli::run_trace(trace);
    if (audit_cmd->parsed()) {
      if (audit.model_roots.empty()) audit.model_roots = llmtap::cli::default_model_roots();
      audit.progress = ::isatty(STDERR_FILENO) == 1;
      return llmtap::cli::run_audit(audit);
    }
    if (daemon_cmd->parsed()) return llmtap::cli::run_daemon(daemon);
    if (watch_cmd->parsed()) {
      watch.color = color == "always" || (color == "auto" && ::isatty(STDOUT_FILENO) == 1);
      return llmtap::cli::run_watch(watch);
    }
    if (catalog_cmd->parsed()) return llmtap::cli::check_catalogs(catalog_files);
    if (validate_cmd->parsed()) return llmtap::cli::validate_policies(policy_files);
    if (show_cmd->parsed()) return llmtap::cli::show_policy(policy_files);
  } catch (const llmtap::llm::CatalogError& e) {
    spdlog::error("{}", e.what());
    return 2;
  } catch (const llmtap::enrich::KubeConfigError& e) {
    spdlog::error("{}", e.what());
    return 2;
  } catch (const llmtap::capture::CaptureError& e) {
    spdlog::error("{}", e.what());
    return 2;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  return 0;
}
