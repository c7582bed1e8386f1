#include "cli/audit_command.h"

#include <spdlog/spdlog.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <set>

#include "audit/audit_html.h"
#include "audit/audit_report.h"
#include "audit/audit_text.h"
#include "capture/capture_error.h"
#include "capture/wall_clock.h"
#include "cli/policy_source.h"
#include "llm/catalog/provider_catalog.h"

namespace llmtap::cli {
namespace {

constexpr auto kModelServerTimeout = std::chrono::milliseconds(1500);

std::string host_name() {
  char name[256] = {};
  return ::gethostname(name, sizeof name - 1) == 0 ? name : "";
}

std::string kernel_release() {
  struct utsname u{};
  return ::uname(&u) == 0 ? u.release : "";
}

bool is_loopback_or_any(const std::string& address) {
  return address == "0.0.0.0" || address == "::" || address.rfind("127.", 0) == 0 ||
         address == "::1" || address == "::ffff:127.0.0.1";
}

// Local model servers: listeners on the ports model servers use, each asked once for its
// model list on loopback (a listener bound elsewhere is only counted when it also answers
// there).
std::vector<audit::ModelServer> find_model_servers() {
  const auto& ports = audit::model_server_ports();
  std::set<uint16_t> asked;
  std::vector<audit::ModelServer> servers;
  for (const audit::TcpListener& l : audit::tcp_listeners()) {
    if (std::find(ports.begin(), ports.end(), l.port) == ports.end()) continue;
    if (!is_loopback_or_any(l.address) || !asked.insert(l.port).second) continue;
    auto server = audit::probe_model_server(l.port, kModelServerTimeout);
    if (!server) continue;
    server->pid = audit::owner_of_socket(l.inode);
    if (server->pid != 0) {
      std::ifstream comm("/proc/" + std::to_string(server->pid) + "/comm");
      std::getline(comm, server->comm);
    }
    servers.push_back(std::move(*server));
  }
  return servers;
}

audit::Inventory take_inventory(const AuditOptions& options, audit::AuditReportBuilder& report) {
  audit::Inventory inventory;
  uint64_t t = monotonic_now_ns();
  auto lap = [&t] {
    const uint64_t now = monotonic_now_ns();
    const uint64_t ms = (now - t) / 1000000;
    t = now;
    return ms;
  };
  inventory.tls = audit::inventory_tls_processes();
  const uint64_t tls_ms = lap();
  if (inventory.tls.unreadable > inventory.tls.processes_examined / 2 && ::geteuid() != 0) {
    report.add_note("not root: the TLS stacks of other users' processes were not read");
  }
  size_t unreadable_environments = 0;
  inventory.api_keys = audit::processes_with_provider_keys("/proc", &unreadable_environments);
  if (unreadable_environments != 0) {
    report.add_note(std::to_string(unreadable_environments) +
                    " process environments could not be read (their API keys are not listed)");
  }
  const uint64_t keys_ms = lap();
  inventory.model_servers = find_model_servers();
  const uint64_t servers_ms = lap();
  inventory.model_roots = options.model_roots;
  spdlog::info(
      "inventory: {} TLS processes ({} examined, {} files, {} ms), {} with keys ({} ms), {} model "
      "servers ({} ms)",
      inventory.tls.processes.size(), inventory.tls.processes_examined,
      inventory.tls.files_examined, tls_ms, inventory.api_keys.size(), keys_ms,
      inventory.model_servers.size(), servers_ms);
  return inventory;
}

// Model files: the longest part of the inventory (a walk of large trees), so it runs on its
// own thread while the window captures.
std::future<audit::ModelSearchResult> search_model_files(const std::vector<std::string>& roots) {
  return std::async(std::launch::async, [roots] {
    const uint64_t started = monotonic_now_ns();
    audit::ModelSearch search;
    search.roots = roots;
    audit::ModelSearchResult found = audit::find_model_files(search);
    spdlog::info("inventory: {} model files ({} entries, {} ms)", found.files.size(),
                 found.entries_examined, (monotonic_now_ns() - started) / 1000000);
    return found;
  });
}

// The pids the inventory names, for their containers and pods.
std::vector<uint32_t> inventory_pids(const audit::Inventory& inventory) {
  std::set<uint32_t> pids;
  for (const auto& p : inventory.tls.processes) pids.insert(p.pid);
  for (const auto& p : inventory.api_keys) pids.insert(p.pid);
  for (const auto& s : inventory.model_servers) {
    if (s.pid != 0) pids.insert(s.pid);
  }
  return {pids.begin(), pids.end()};
}

bool write_file(const std::string& path, const std::string& text, std::string& error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) error = "cannot write " + path + ": " + std::strerror(errno);
  return static_cast<bool>(out);
}

// "llmtap audit: 42 s left, 7 LLM calls, 1 finding at or above high" on one line of a
// terminal, rewritten in place.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  void show(const std::string& text) {
    if (!enabled_ || text == last_) return;
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
    last_ = text;
  }
  void clear() {
    if (!enabled_ || last_.empty()) return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    last_.clear();
  }

 private:
  bool enabled_;
  std::string last_;
};

}  // namespace

const std::vector<std::string>& default_model_roots() {
  static const std::vector<std::string> kRoots = {"/root", "/home", "/opt", "/srv",
                                                  "/var/lib", "/usr/local", "/usr/share/ollama",
                                                  "/models", "/data", "/mnt"};
  return kRoots;
}

int run_audit(const AuditOptions& options) {
  audit::AuditHeader header;
  header.host_name = host_name();
  header.kernel = kernel_release();
  header.llmtap_version = LLMTAP_VERSION;
  header.policy_sources.push_back("built-in");
  for (const auto& f : options.session.policy.policies) header.policy_sources.push_back(f);
  for (const auto& f : options.session.policy.secrets_rules) header.policy_sources.push_back(f);
  header.fail_on = options.fail_on;
  header.started_realtime_ns = capture::realtime_now_ns();  // again when the window opens
  header.duration_seconds = options.session.duration_seconds;
  audit::AuditReportBuilder report(header);

  std::string error;
  // A policy file that does not compile: said at once, before anything is looked at.
  if (!options.session.policy.policies.empty() || !options.session.policy.secrets_rules.empty()) {
    const PolicyBuild build = build_policy(options.session.policy);
    if (!build.policy) {
      for (const auto& p : build.problems) {
        if (!p.fatal) continue;
        if (!error.empty()) error += "; ";
        error += p.where.empty() ? p.message : p.where + ": " + p.message;
      }
      error = "the policy has errors: " + error;
    }
  }

  ProgressLine progress(options.progress);
  uint64_t window_end = 0;
  audit::Inventory inventory;
  if (error.empty()) {
    progress.show("llmtap audit: taking the inventory...");
    inventory = take_inventory(options, report);
    auto model_files = search_model_files(options.model_roots);
    const std::vector<uint32_t> pids = inventory_pids(inventory);
    report.set_window_start(capture::realtime_now_ns());

    const uint64_t window_start = monotonic_now_ns();
    LlmSessionHandlers handlers;
    handlers.on_policy = [&](const policy::CompiledPolicy& p) {
      report.set_policy_rules(p.rules.size());
    };
    handlers.on_call = [&](const llm::LlmCall& call, const std::vector<policy::Finding>& f) {
      report.add_call(call, f);
    };
    handlers.on_findings = [&](const std::vector<policy::Finding>& f) { report.add_findings(f); };
    handlers.after_poll = [&](uint64_t now) {
      const double elapsed = static_cast<double>(now - window_start) / 1e9;
      const double left = std::max(0.0, options.session.duration_seconds - elapsed);
      std::string line = "llmtap audit: " + std::to_string(static_cast<int>(left + 0.5)) +
                         " s left, " + audit::thousands(report.calls()) + " LLM call" +
                         (report.calls() == 1 ? "" : "s");
      if (report.failing_findings() != 0) {
        line += ", " + audit::thousands(report.failing_findings()) + " finding" +
                (report.failing_findings() == 1 ? "" : "s") + " at or above " +
                std::string(policy::severity_name(*options.fail_on));
      }
      progress.show(line);
      return true;
    };
    handlers.before_end = [&](const LlmSessionHandlers::WorkloadLookup& workload_of) {
      for (uint32_t pid : pids) report.set_inventory_workload(pid, workload_of(pid));
    };
    handlers.at_end = [](uint64_t) { return true; };
    try {
      const int status = run_llm_session(options.session, handlers);
      if (status != 0) error = "the capture ended with status " + std::to_string(status);
    } catch (const std::exception& e) {
      error = e.what();
    }
    window_end = capture::realtime_now_ns();
    if (model_files.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      progress.show("llmtap audit: still looking for model files...");
    }
    inventory.model_files = model_files.get();
    report.set_inventory(std::move(inventory));
    progress.clear();
  }

  nlohmann::json document =
      report.build(window_end != 0 ? window_end : capture::realtime_now_ns(), error);
  std::string rendered;
  if (options.format == "json") {
    rendered = document.dump(2) + "\n";
  } else if (options.format == "markdown") {
    rendered = audit::render_audit_markdown(document);
  } else {
    rendered = audit::render_audit_table(document);
  }
  std::string write_error;
  if (!options.html_file.empty()) {
    write_file(options.html_file, audit::render_audit_html(document), write_error);
  }
  if (options.output_file.empty()) {
    std::fwrite(rendered.data(), 1, rendered.size(), stdout);
    std::fflush(stdout);
  } else if (write_error.empty()) {
    write_file(options.output_file, rendered, write_error);
  }
  if (!error.empty()) {
    spdlog::error("audit could not run: {}", error);
    return 2;
  }
  if (!write_error.empty()) {
    spdlog::error("{}", write_error);
    return 2;
  }
  return report.exit_code();
}

}  // namespace llmtap::cli
