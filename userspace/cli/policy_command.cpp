#include "cli/policy_command.h"

#include <iostream>
#include <map>

#include "policy/detection/detector_catalog.h"
#include "policy/glob.h"

namespace llmtap::cli {
namespace {

std::string list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

void print_scope(const char* name, const policy::Scope& s) {
  if (s.empty()) return;
  std::cout << "    " << name << ":";
  if (!s.processes.empty()) std::cout << " processes " << list(s.processes);
  if (!s.namespaces.empty()) std::cout << " namespaces " << list(s.namespaces);
  if (!s.containers.empty()) std::cout << " containers " << list(s.containers);
  for (const auto& [k, v] : s.pod_labels) std::cout << " label " << k << "=" << v;
  for (const uint32_t uid : s.uids) std::cout << " uid " << uid;
  std::cout << "\n";
}

}  // namespace

int validate_policies(const PolicyFiles& files) {
  const PolicyBuild build = build_policy(files);
  size_t errors = 0;
  for (const auto& p : build.problems) {
    std::cout << (p.where.empty() ? "" : p.where + ": ") << (p.fatal ? "" : "warning: ")
              << p.message << "\n";
    errors += p.fatal ? 1 : 0;
  }
  if (build.policy) {
    std::cout << "policy: " << build.policy->rules.size() << " rules, "
              << build.policy->scanner->detector_count() << " detectors: OK\n";
  }
  return errors == 0 && build.policy ? 0 : 1;
}

int show_policy(const PolicyFiles& files) {
  const PolicyBuild build = build_policy(files);
  if (!build.policy) return validate_policies(files);
  const policy::CompiledPolicy& p = *build.policy;
  std::cout << "# effective policy from: " << list(p.policy.sources) << "\n";
  if (!p.policy.disabled.empty()) std::cout << "disabled: " << list(p.policy.disabled) << "\n";
  std::cout << "rules:\n";
  for (const auto& r : p.rules) {
    std::cout << "  - id: " << r.rule.id << "\n    kind: " << policy::rule_kind(r.rule.body)
              << "\n    severity: "
              << (r.rule.severity_from_detectors
                      ? std::string("(from detectors)")
                      : std::string(policy::severity_name(r.rule.severity)))
              << "\n    action: " << policy::action_name(r.rule.action)
              << (r.rule.mode == policy::RuleMode::kAudit     ? "\n    mode: audit"
                  : r.rule.mode == policy::RuleMode::kEnforce ? "\n    mode: enforce"
                                                              : "")
              << (r.rule.hold_kills_process ? "\n    block: kill-process" : "")
              << "\n    from: " << r.rule.source << "\n";
    if (!r.rule.description.empty()) std::cout << "    description: " << r.rule.description << "\n";
    print_scope("scope", r.rule.scope);
    for (const auto& e : r.rule.exceptions) print_scope("exception", e);
    size_t used = 0;
    for (const bool u : r.uses_detector) used += u ? 1 : 0;
    if (used != 0) std::cout << "    detectors: " << used << "\n";
  }
  std::map<std::string, size_t> by_category;
  for (const auto& d : p.scanner->detectors())
    ++by_category[std::string(policy::category_name(d.category))];
  std::cout << "detectors:";
  for (const auto& [category, n] : by_category) std::cout << " " << category << "=" << n;
  std::cout << " (Hyperscan database " << p.scanner->database_bytes() << " bytes)\n";
  return 0;
}

}  // namespace llmtap::cli
