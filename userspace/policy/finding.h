#pragma once
// What the policy engine found about one LLM call: the rule, why, and the evidence. Read by
// sinks (OCSF Detection Finding 2004 / Data Security Finding 2006) and, later, by actions.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llm/llm_call.h"
#include "policy/detection/detection.h"
#include "policy/policy.h"

namespace llmtap::policy {

enum class FindingKind { kModelGovernance, kDataExfiltration, kVolume, kPromptAttack };

// Where evidence was found.
enum class EvidenceSource { kRequest, kResponse };

struct Evidence {
  Detection detection;
  EvidenceSource source = EvidenceSource::kRequest;
};

// What an enforcement action did (or, in audit mode, would have done).
struct ActionOutcome {
  Action action = Action::kAlert;
  bool audit = false;      // nothing was touched: the event says would_<action>
  bool attempted = false;  // enforce mode and the target could be named
  bool succeeded = false;
  // The connection reset before the call's bytes left (a hold), rather than after.
  bool prevented = false;
  std::string target;  // "connection 10.0.0.5:41234 -> 10.0.0.9:443", "process curl[1234]"
  std::string error;   // why it failed or was refused ("pid 1 is never touched")
  // From the capture of the call's first byte to the action done (0 in audit mode).
  uint64_t capture_to_action_ns = 0;
  uint64_t time_realtime_ns = 0;
};

struct Finding {
  std::string rule_id;
  std::string rule_description;
  FindingKind kind = FindingKind::kModelGovernance;
  Severity severity = Severity::kMedium;
  Confidence confidence = Confidence::kHigh;
  Action action = Action::kAlert;
  RuleMode mode = RuleMode::kDefault;
  bool hold_kills_process = false;       // the rule's `block: kill-process`
  std::optional<ActionOutcome> outcome;  // set by the enforcer for actions other than alert
  std::string title;   // one line for a person: "Unsanctioned model deepseek-r1 (deepseek)"
  std::string reason;  // which part of the rule matched: "deny: provider deepseek"
  std::vector<Evidence> evidence;
  // The same rule and detector on the same connection within the dedupe window: one finding,
  // counted. `update` findings report the count of a finding first reported earlier.
  uint64_t count = 1;
  bool update = false;
  uint64_t time_realtime_ns = 0;
  std::string uid;    // stable id of the finding (updates reuse the first one's)
  llm::LlmCall call;  // the call it is about (prompt/completion text never copied)
  // Volume findings: what was counted over which window.
  uint64_t volume_tokens = 0;
  uint64_t volume_bytes = 0;
  uint64_t volume_window_seconds = 0;
  std::string volume_key;  // "process:curl[123]", "container:<id>", "pod:<ns>/<name>"
};

std::string_view finding_kind_name(FindingKind k);  // "model", "data", "volume", "prompt_attack"

}  // namespace llmtap::policy
