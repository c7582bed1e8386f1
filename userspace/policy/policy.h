#pragma once
// The organisation's rules, as read from policy YAML (docs/policy.md): data, compiled into a
// CompiledPolicy before any call is judged by it.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "policy/detection/detector_spec.h"
#include "policy/severity.h"

namespace llmtap::policy {

// What happens when a rule matches: report it, destroy the connection that carried the call,
// kill the process that made it, or hold the writer before its bytes leave (prevent mode; the
// call is then stopped by destroying its connection). docs/enforcement.md.
enum class Action { kAlert, kKillConnection, kKillProcess, kHold };

// Whether a rule's action is carried out (enforce) or only reported as `would_*` (audit).
// kDefault: as the agent's --mode says. Audit wins: a rule in audit mode never acts, and
// --mode audit makes every rule audit.
enum class RuleMode { kDefault, kAudit, kEnforce };

// Who a rule applies to. Empty lists match everything; a field that the event does not know
// (no pod outside a cluster) never matches a non-empty list. Strings are globs (*, ?).
struct Scope {
  std::vector<std::string> namespaces;
  std::map<std::string, std::string> pod_labels;  // all must match (values are globs)
  std::vector<std::string> containers;            // container names or ids
  std::vector<std::string> processes;             // command name, or executable path if it has '/'
  std::vector<uint32_t> uids;
  bool empty() const {
    return namespaces.empty() && pod_labels.empty() && containers.empty() && processes.empty() &&
           uids.empty();
  }
};

// A provider/model pattern: an empty side matches anything.
struct ModelPattern {
  std::string provider;             // glob on the catalog provider id
  std::vector<std::string> models;  // globs on the requested (or answered) model
};

struct ModelRule {
  std::vector<ModelPattern> allow;  // when given, anything else is a finding
  std::vector<ModelPattern> deny;   // anything matching is a finding
  // A call to a provider the catalog only knew by its shape (openai-compatible on an unknown
  // host: vLLM, Ollama, a gateway), or without a model: a finding.
  bool unknown = false;
  // SHA-256 (hex) of the organisation's API keys: a call to `key_providers` with any other
  // key is a finding (a personal key on a sanctioned provider).
  std::vector<std::string> organisation_key_sha256;
  std::vector<std::string> key_providers;
};

struct DataRule {
  // Detector ids (globs) and categories ("category:secret", "category:personal-data",
  // "category:custom", "category:bulk"); empty: every detector.
  std::vector<std::string> detectors;
  bool scan_requests = true;
  bool scan_responses = false;
  Confidence min_confidence = Confidence::kLow;
  // Bulk: this many distinct detectors hitting one request is a finding of its own.
  uint32_t max_distinct_detectors = 0;  // 0: off
};

enum class VolumePer { kProcess, kContainer, kPod };

struct VolumeRule {
  VolumePer per = VolumePer::kProcess;
  uint64_t window_seconds = 3600;
  uint64_t max_tokens = 0;  // 0: not checked
  uint64_t max_bytes = 0;
};

struct PromptAttackRule {
  uint32_t min_indicators = 1;  // distinct indicators in one request
};

using RuleBody = std::variant<ModelRule, DataRule, VolumeRule, PromptAttackRule>;

struct Rule {
  std::string id;
  std::string description;
  Severity severity = Severity::kMedium;
  // A data rule without its own severity: each finding takes its detections' highest.
  bool severity_from_detectors = false;
  Action action = Action::kAlert;
  RuleMode mode = RuleMode::kDefault;
  // `hold` only (`block: kill-process`): a held writer found offending is killed, not just
  // cut off by the reset of its connection.
  bool hold_kills_process = false;
  Scope scope;
  std::vector<Scope> exceptions;
  RuleBody body;
  std::string source;  // file:line where it is defined
};

struct Policy {
  std::vector<Rule> rules;              // in order; a later file's rule replaces an earlier one
  std::vector<DetectorSpec> detectors;  // the policy's own (custom) detectors
  std::vector<std::string> disabled;    // rule ids switched off
  std::vector<std::string> sources;     // files it was read from ("builtin" first)
};

std::string_view action_name(Action a);  // "alert", "kill-connection", "kill-process", "hold"
std::string_view rule_kind(const RuleBody& body);  // "model", "data", "volume", "prompt_attack"

}  // namespace llmtap::policy
