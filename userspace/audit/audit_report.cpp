#include "audit/audit_report.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

#include "policy/severity.h"

namespace llmtap::audit {
namespace {

using nlohmann::json;
using policy::Severity;

constexpr Severity kSeverities[] = {Severity::kCritical, Severity::kHigh, Severity::kMedium,
                                    Severity::kLow, Severity::kInfo};

std::string rfc3339(uint64_t realtime_ns) {
  const auto seconds = static_cast<time_t>(realtime_ns / 1000000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

json workload_json(const std::shared_ptr<const llm::WorkloadIdentity>& w) {
  if (!w) return nullptr;
  json j = {{"container_id", w->container_id}};
  auto put = [&j](const char* key, const std::string& value) {
    if (!value.empty()) j[key] = value;
  };
  put("container_name", w->container_name);
  put("image", w->image);
  put("runtime", w->container_runtime);
  put("pod_namespace", w->pod_namespace);
  put("pod_name", w->pod_name);
  put("pod_uid", w->pod_uid);
  return j;
}

json process_json(const llm::ProcessIdentity& p, bool with_exe = true) {
  json j = {{"pid", p.pid}, {"comm", p.comm}};
  if (with_exe && !p.exe.empty()) j["exe"] = p.exe;
  return j;
}

json severities_json(const std::map<Severity, uint64_t>& counts, bool all) {
  json j = json::object();
  for (Severity s : kSeverities) {
    const auto it = counts.find(s);
    const uint64_t n = it == counts.end() ? 0 : it->second;
    if (all || n != 0) j[std::string(policy::severity_name(s))] = n;
  }
  return j;
}

// Cost to a precision people read (and tests compare) without float noise.
double rounded_cost(double usd) { return std::round(usd * 1e8) / 1e8; }

}  // namespace

std::string model_of(const llm::LlmCall& call) {
  return call.request_model.empty() ? call.response_model : call.request_model;
}

double timeline_bucket_seconds(double duration_seconds) {
  static constexpr double kSteps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600};
  for (double step : kSteps) {
    if (duration_seconds / step <= 30) return step;
  }
  return 3600 * std::ceil(duration_seconds / 3600 / 30);
}

AuditReportBuilder::AuditReportBuilder(AuditHeader header) : header_(std::move(header)) {
  const double duration = std::max(header_.duration_seconds, 1.0);
  bucket_seconds_ = timeline_bucket_seconds(duration);
  buckets_ = static_cast<size_t>(std::ceil(duration / bucket_seconds_));
}

void AuditReportBuilder::set_inventory(Inventory inventory) { inventory_ = std::move(inventory); }

void AuditReportBuilder::set_inventory_workload(uint32_t pid,
                                                std::shared_ptr<const llm::WorkloadIdentity> w) {
  if (w) inventory_workloads_[pid] = std::move(w);
}

size_t AuditReportBuilder::bucket_of(uint64_t realtime_ns) const {
  if (realtime_ns <= header_.started_realtime_ns) return 0;
  const double seconds = static_cast<double>(realtime_ns - header_.started_realtime_ns) / 1e9;
  return std::min(static_cast<size_t>(seconds / bucket_seconds_), buckets_ - 1);
}

void AuditReportBuilder::add_call(const llm::LlmCall& call,
                                  const std::vector<policy::Finding>& findings) {
  ++calls_;
  const std::string model = model_of(call);
  Group& g = groups_[{call.process.pid, call.served, call.provider, model, call.server_name}];
  g.process = call.process;  // the latest identity (a pod may have become known)
  ++g.calls;
  if (call.status == 0 || call.status >= 400 || !call.error_type.empty()) ++g.failed;
  g.input_tokens += call.tokens.input.value_or(0);
  g.output_tokens += call.tokens.output.value_or(0);
  if (call.cost_usd) {
    g.cost_usd += *call.cost_usd;
    g.priced = true;
  }
  g.request_bytes += call.request_bytes;
  g.response_bytes += call.response_bytes;
  for (const policy::Finding& f : findings) {
    if (f.kind == policy::FindingKind::kModelGovernance) g.unsanctioned = true;
    ++g.findings[f.severity];
    if (std::find(g.rules.begin(), g.rules.end(), f.rule_id) == g.rules.end()) {
      g.rules.push_back(f.rule_id);
    }
  }
  // Kept apart by role: a call whose both ends are on this host is charted once, by its
  // client (see build()).
  Series& s = (call.served ? served_timeline_ : timeline_)[{call.provider, model}];
  s.calls.resize(buckets_);
  s.tokens.resize(buckets_);
  const size_t b = bucket_of(call.start_realtime_ns);
  ++s.calls[b];
  s.tokens[b] += call.tokens.total.value_or(call.tokens.input.value_or(0) +
                                            call.tokens.output.value_or(0));
  for (const policy::Finding& f : findings) count_finding(f);
}

void AuditReportBuilder::add_findings(const std::vector<policy::Finding>& findings) {
  for (const policy::Finding& f : findings) count_finding(f);
}

void AuditReportBuilder::count_finding(const policy::Finding& f) {
  // An update reports the count of a finding already counted once: only the rest is new.
  const uint64_t added = f.update ? (f.count > 1 ? f.count - 1 : 0) : f.count;
  if (added == 0) return;
  findings_by_severity_[f.severity] += added;
  if (header_.fail_on && f.severity >= *header_.fail_on) failing_findings_ += added;
  FindingGroup& g = finding_groups_[{f.rule_id, f.call.process.pid}];
  if (g.count == 0) {
    g.rule_id = f.rule_id;
    g.severity = f.severity;
    g.kind = f.kind;
    g.action = f.action;
    g.audit = f.outcome && f.outcome->audit;
    g.title = f.title;
    g.process = f.call.process;
    g.provider = f.call.provider;
    g.model = model_of(f.call);
    g.first_ns = f.time_realtime_ns;
  }
  g.count += added;
  g.severity = std::max(g.severity, f.severity);
  g.first_ns = std::min(g.first_ns, f.time_realtime_ns);
  g.last_ns = std::max(g.last_ns, f.time_realtime_ns);
}

json AuditReportBuilder::build(uint64_t ended_realtime_ns, const std::string& error) const {
  json report;
  report["llmtap_audit"] = 1;
  report["host"] = {{"name", header_.host_name},
                    {"kernel", header_.kernel},
                    {"llmtap_version", header_.llmtap_version}};
  const double ran = ended_realtime_ns > header_.started_realtime_ns
                         ? static_cast<double>(ended_realtime_ns - header_.started_realtime_ns) / 1e9
                         : 0;
  report["window"] = {{"started", rfc3339(header_.started_realtime_ns)},
                      {"ended", rfc3339(ended_realtime_ns)},
                      {"duration_seconds", std::round(ran * 10) / 10}};
  report["policy"] = {{"sources", header_.policy_sources}, {"rules", header_.policy_rules}};
  const int status = !error.empty() ? 2 : exit_code();
  report["status"] = {
      {"exit_code", status},
      {"fail_on", header_.fail_on ? std::string(policy::severity_name(*header_.fail_on))
                                  : std::string("never")},
      {"findings_at_or_above", failing_findings_},
      {"error", error.empty() ? json(nullptr) : json(error)},
      {"notes", notes_}};

  // Inventory.
  auto workload_of = [this](uint32_t pid) {
    const auto it = inventory_workloads_.find(pid);
    return it == inventory_workloads_.end() ? json(nullptr) : workload_json(it->second);
  };
  json tls = json::array();
  std::map<std::pair<std::string, bool>, uint64_t> per_stack;
  size_t visible = 0;
  size_t not_visible = 0;
  for (const TlsProcess& p : inventory_.tls.processes) {
    json stacks = json::array();
    bool any_visible = false;
    std::set<std::pair<std::string, bool>> counted;
    for (const TlsStackUse& s : p.stacks) {
      stacks.push_back({{"stack", s.stack}, {"visible", s.visible}, {"file", s.file}});
      any_visible = any_visible || s.visible;
      if (counted.insert({s.stack, s.visible}).second) ++per_stack[{s.stack, s.visible}];
    }
    // A process is visible when llmtap sees into at least one of its TLS stacks; one with
    // only stacks it cannot see into is not.
    (any_visible ? visible : not_visible) += 1;
    tls.push_back({{"pid", p.pid},
                   {"comm", p.comm},
                   {"exe", p.exe},
                   {"stacks", std::move(stacks)},
                   {"workload", workload_of(p.pid)}});
  }
  json stacks = json::array();
  for (const auto& [key, n] : per_stack) {
    stacks.push_back({{"stack", key.first}, {"visible", key.second}, {"processes", n}});
  }
  json keys = json::array();
  for (const ProcessKeys& p : inventory_.api_keys) {
    for (const EnvironmentKey& k : p.keys) {
      keys.push_back({{"pid", p.pid},
                      {"comm", p.comm},
                      {"exe", p.exe},
                      {"variable", k.variable},
                      {"provider", k.provider},
                      {"fingerprint", k.fingerprint},
                      {"workload", workload_of(p.pid)}});
    }
  }
  json servers = json::array();
  for (const ModelServer& s : inventory_.model_servers) {
    servers.push_back({{"port", s.port},
                       {"kind", s.kind},
                       {"models", s.models},
                       {"pid", s.pid},
                       {"comm", s.comm},
                       {"workload", workload_of(s.pid)}});
  }
  json files = json::array();
  for (const ModelFile& f : inventory_.model_files.files) {
    json file = {{"path", f.path}, {"size", f.size}, {"format", f.format}};
    if (!f.name.empty()) file["name"] = f.name;
    if (!f.architecture.empty()) file["architecture"] = f.architecture;
    files.push_back(std::move(file));
  }
  report["inventory"] = {{"tls_processes", std::move(tls)},
                         {"tls_stacks", std::move(stacks)},
                         {"api_keys", std::move(keys)},
                         {"model_servers", std::move(servers)},
                         {"model_files",
                          {{"roots", inventory_.model_roots},
                           {"files", std::move(files)},
                           {"entries_examined", inventory_.model_files.entries_examined},
                           {"cut_short", inventory_.model_files.cut_short}}}};

  // The window's calls, by group; the biggest first.
  std::vector<const std::pair<const GroupKey, Group>*> ordered;
  for (const auto& entry : groups_) ordered.push_back(&entry);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto* a, const auto* b) { return a->second.calls > b->second.calls; });
  json calls = json::array();
  uint64_t unsanctioned = 0, failed = 0, input = 0, output = 0, req = 0, resp = 0;
  double cost = 0;
  bool priced = false;
  std::set<uint32_t> callers;
  std::set<std::string> providers;
  std::set<std::pair<std::string, std::string>> models;
  for (const auto* entry : ordered) {
    const auto& [key, g] = *entry;
    const auto& [pid, served, provider, model, server] = key;
    json row = {{"process", process_json(g.process)},
                {"workload", workload_json(g.process.workload)},
                {"role", served ? "server" : "client"},
                {"provider", provider},
                {"model", model.empty() ? json(nullptr) : json(model)},
                {"server", server},
                {"calls", g.calls},
                {"failed_calls", g.failed},
                {"input_tokens", g.input_tokens},
                {"output_tokens", g.output_tokens},
                {"cost_usd", g.priced ? json(rounded_cost(g.cost_usd)) : json(nullptr)},
                {"request_bytes", g.request_bytes},
                {"response_bytes", g.response_bytes},
                {"sanctioned", !g.unsanctioned},
                {"findings", severities_json(g.findings, false)},
                {"rules", g.rules}};
    calls.push_back(std::move(row));
    // The summary counts a call once: by its client when the host made both ends (the
    // server's end of a provider and model some process here called).
    if (served && timeline_.contains({provider, model})) continue;
    unsanctioned += g.unsanctioned ? g.calls : 0;
    failed += g.failed;
    input += g.input_tokens;
    output += g.output_tokens;
    req += g.request_bytes;
    resp += g.response_bytes;
    cost += g.cost_usd;
    priced = priced || g.priced;
    if (!served) callers.insert(pid);
    providers.insert(provider);
    models.insert({provider, model});
  }
  // The chart's series: the clients' calls, and served calls no client here made.
  std::map<std::pair<std::string, std::string>, Series> chart = timeline_;
  for (const auto& [key, s] : served_timeline_) chart.emplace(key, s);
  uint64_t summary_calls = 0;
  for (const auto& [_, s] : chart) {
    for (uint64_t n : s.calls) summary_calls += n;
  }
  report["calls"] = std::move(calls);

  std::vector<const FindingGroup*> by_severity;
  for (const auto& [_, g] : finding_groups_) by_severity.push_back(&g);
  std::stable_sort(by_severity.begin(), by_severity.end(), [](const auto* a, const auto* b) {
    return a->severity != b->severity ? a->severity > b->severity : a->count > b->count;
  });
  json findings = json::array();
  for (const FindingGroup* g : by_severity) {
    findings.push_back(
        {{"rule_id", g->rule_id},
         {"severity", policy::severity_name(g->severity)},
         {"kind", policy::finding_kind_name(g->kind)},
         {"title", g->title},
         {"count", g->count},
         {"process", process_json(g->process, false)},
         {"workload", workload_json(g->process.workload)},
         {"provider", g->provider},
         {"model", g->model.empty() ? json(nullptr) : json(g->model)},
         {"first_seen", rfc3339(g->first_ns)},
         {"last_seen", rfc3339(g->last_ns)},
         {"action", (g->audit ? "would_" : "") + std::string(policy::action_name(g->action))}});
  }
  report["findings"] = std::move(findings);

  report["summary"] = {{"calls", summary_calls},
                       {"unsanctioned_calls", unsanctioned},
                       {"failed_calls", failed},
                       {"input_tokens", input},
                       {"output_tokens", output},
                       {"cost_usd", priced ? json(rounded_cost(cost)) : json(nullptr)},
                       {"request_bytes", req},
                       {"response_bytes", resp},
                       {"processes_calling", callers.size()},
                       {"providers", providers},
                       {"models", models.size()},
                       {"findings", severities_json(findings_by_severity_, true)},
                       {"tls_processes_visible", visible},
                       {"tls_processes_not_visible", not_visible},
                       {"processes_with_api_keys", inventory_.api_keys.size()},
                       {"model_servers", inventory_.model_servers.size()},
                       {"model_files", inventory_.model_files.files.size()}};

  json series = json::array();
  for (const auto& [key, s] : chart) {
    series.push_back({{"provider", key.first},
                      {"model", key.second.empty() ? json(nullptr) : json(key.second)},
                      {"calls", s.calls},
                      {"tokens", s.tokens}});
  }
  report["timeline"] = {
      {"bucket_seconds", bucket_seconds_}, {"buckets", buckets_}, {"series", std::move(series)}};
  return report;
}

}  // namespace llmtap::audit
