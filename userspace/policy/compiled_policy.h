#pragma once
// A policy ready to judge calls: its enabled rules, each data rule's detectors resolved, and
// one ContentScanner over every detector (built-in, the policy's own, gitleaks files).
// Immutable once built: the engine swaps whole CompiledPolicies, so no call is ever judged by
// a half-loaded one.

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/detection/content_scanner.h"
#include "policy/policy.h"

namespace llmtap::policy {

struct PolicyProblem {
  std::string where;    // "file:line:column" or "file:line"
  std::string message;  // "rule cloud-keys: unknown detector 'aws-*x'"
  bool fatal = true;    // warnings (Hyperscan fallback, a disabled id no rule has) are not
};

struct CompiledRule {
  Rule rule;
  std::vector<bool> uses_detector;  // by index into scanner->detectors()
};

struct CompiledPolicy {
  Policy policy;
  std::vector<CompiledRule> rules;  // enabled ones, in order
  std::shared_ptr<const ContentScanner> scanner;
  std::unordered_map<std::string, size_t> detector_index;  // id -> index in scanner->detectors()
  bool scan_requests = false;                              // some rule reads request bodies
  bool scan_responses = false;                             // some rule reads response bodies
};

// Compiles `policy` with the built-in detectors and `extra_detectors` (gitleaks files).
// Problems go to `problems`; when one is fatal the result is null.
std::shared_ptr<const CompiledPolicy> compile_policy(Policy policy,
                                                     std::vector<DetectorSpec> extra_detectors,
                                                     std::vector<PolicyProblem>& problems);

}  // namespace llmtap::policy
