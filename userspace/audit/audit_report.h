#pragma once
// The audit's report: the inventory taken at start and every LLM call and finding of the live
// window, folded into the JSON document docs/audit.md describes (by process, role, provider,
// model and server; findings by rule and process; a timeline for charts). The JSON is the
// report: the table, markdown and HTML forms are rendered from it.

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "audit/environment_keys.h"
#include "audit/model_file_finder.h"
#include "audit/model_servers.h"
#include "audit/tls_stacks.h"
#include "llm/llm_call.h"
#include "policy/finding.h"

namespace llmtap::audit {

// What the audit found on the host before the window (each part may be missing: a part that
// could not be taken says why in the notes).
struct Inventory {
  TlsInventory tls;
  std::vector<ProcessKeys> api_keys;
  std::vector<ModelServer> model_servers;
  std::vector<std::string> model_roots;
  ModelSearchResult model_files;
};

struct AuditHeader {
  std::string host_name;
  std::string kernel;
  std::string llmtap_version;
  std::vector<std::string> policy_sources;  // "built-in", then the files
  size_t policy_rules = 0;
  std::optional<policy::Severity> fail_on;  // nullopt: never fails on findings
  uint64_t started_realtime_ns = 0;
  double duration_seconds = 0;  // asked for: the timeline's length
};

class AuditReportBuilder {
 public:
  explicit AuditReportBuilder(AuditHeader header);

  void set_inventory(Inventory inventory);
  // When the live window opened (the header's start until then): the timeline counts from it.
  void set_window_start(uint64_t realtime_ns) { header_.started_realtime_ns = realtime_ns; }
  // The container/pod of an inventory process, looked up once the cluster is known.
  void set_inventory_workload(uint32_t pid, std::shared_ptr<const llm::WorkloadIdentity> w);
  // A call of the window with the findings made about it.
  void add_call(const llm::LlmCall& call, const std::vector<policy::Finding>& findings);
  // Findings not reported with a call (volume windows, actions on writes, counted repeats).
  void add_findings(const std::vector<policy::Finding>& findings);
  void add_note(std::string note) { notes_.push_back(std::move(note)); }
  // The enabled rules of the policy the window was judged by.
  void set_policy_rules(size_t rules) { header_.policy_rules = rules; }

  uint64_t calls() const { return calls_; }
  // Findings at or above the fail-on severity so far.
  uint64_t failing_findings() const { return failing_findings_; }
  // 0 clean, 1 findings at or above fail-on.
  int exit_code() const { return failing_findings_ > 0 ? 1 : 0; }

  // The whole report. `ended_realtime_ns`: when the window closed. `error`: why the audit
  // could not run (exit status 2), empty when it ran.
  nlohmann::json build(uint64_t ended_realtime_ns, const std::string& error = "") const;

 private:
  // process (pid), role, provider, model, server.
  using GroupKey = std::tuple<uint32_t, bool, std::string, std::string, std::string>;
  struct Group {
    llm::ProcessIdentity process;
    uint64_t calls = 0;
    uint64_t failed = 0;
    uint64_t input_tokens = 0;
    uint64_t output_tokens = 0;
    double cost_usd = 0;
    bool priced = false;
    uint64_t request_bytes = 0;
    uint64_t response_bytes = 0;
    bool unsanctioned = false;
    std::map<policy::Severity, uint64_t> findings;
    std::vector<std::string> rules;
  };
  // rule, pid.
  using FindingKey = std::tuple<std::string, uint32_t>;
  struct FindingGroup {
    std::string rule_id;
    policy::Severity severity = policy::Severity::kInfo;
    policy::FindingKind kind = policy::FindingKind::kModelGovernance;
    policy::Action action = policy::Action::kAlert;
    bool audit = false;
    std::string title;
    uint64_t count = 0;
    llm::ProcessIdentity process;
    std::string provider;
    std::string model;
    uint64_t first_ns = 0;
    uint64_t last_ns = 0;
  };
  struct Series {
    std::vector<uint64_t> calls;
    std::vector<uint64_t> tokens;
  };

  void count_finding(const policy::Finding& f);
  size_t bucket_of(uint64_t realtime_ns) const;

  AuditHeader header_;
  Inventory inventory_;
  std::map<uint32_t, std::shared_ptr<const llm::WorkloadIdentity>> inventory_workloads_;
  std::vector<std::string> notes_;
  std::map<GroupKey, Group> groups_;
  std::map<FindingKey, FindingGroup> finding_groups_;
  std::map<policy::Severity, uint64_t> findings_by_severity_;
  // By provider and model: calls made by processes here, and calls they answered.
  std::map<std::pair<std::string, std::string>, Series> timeline_;
  std::map<std::pair<std::string, std::string>, Series> served_timeline_;
  uint64_t calls_ = 0;
  uint64_t failing_findings_ = 0;
  double bucket_seconds_ = 5;
  size_t buckets_ = 12;
};

// The model a call is counted under: as the request named it (what the application chose, and
// what model rules judge; a response often names a dated version), else as the response did.
std::string model_of(const llm::LlmCall& call);

// Bucket length for a window: about 12-60 buckets of a round number of seconds.
double timeline_bucket_seconds(double duration_seconds);

}  // namespace llmtap::audit
