#pragma once
// Carries out a finding's action: destroys the connection that carried the call
// (kill-connection; also `hold` when the call was not held in time), or kills the process
// that made it (kill-process, through a pidfd after checking the process's start time, so a
// reused pid is never hit). In audit mode nothing is touched and the outcome says what would
// have been done. The outcome is written into the finding, for its OCSF event.

#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "action/touch_guard.h"
#include "policy/finding.h"

namespace llmtap::action {

struct EnforcerOptions {
  bool audit = false;                    // --mode audit: no rule acts
  std::vector<std::string> never_touch;  // added to the defaults
};

struct EnforcerStats {
  uint64_t actions = 0;  // findings whose action was not alert
  uint64_t would = 0;    // of which in audit mode
  uint64_t connections_reset = 0;
  uint64_t processes_killed = 0;
  uint64_t refused = 0;  // never-touch list, pid 1, kernel threads, unknown start
  uint64_t failed = 0;
  uint64_t already_done = 0;  // the connection was reset / process killed before
};

class Enforcer {
 public:
  explicit Enforcer(EnforcerOptions options = {}, std::string proc_root = "/proc");

  // Acts on `f` when its action is not alert (updates are not acted on again) and records
  // the outcome in `f.outcome`.
  void act(policy::Finding& f);

  // Whether `f` is to be acted on for real (its rule and the agent both in enforce mode).
  bool enforcing(const policy::Finding& f) const;

  const EnforcerStats& stats() const { return stats_; }
  const TouchGuard& touch_guard() const { return guard_; }

 private:
  policy::ActionOutcome kill_connection(const llm::LlmCall& call);
  policy::ActionOutcome kill_process(const llm::LlmCall& call);
  bool remember(std::set<uint64_t>& done, std::deque<uint64_t>& order, uint64_t key);

  EnforcerOptions options_;
  TouchGuard guard_;
  EnforcerStats stats_;
  std::set<uint64_t> reset_connections_;
  std::deque<uint64_t> reset_order_;
  std::set<uint64_t> killed_processes_;  // pid << 32 ^ start ticks
  std::deque<uint64_t> killed_order_;
};

std::string describe_connection(const llm::LlmCall& call);  // "10.0.0.5:41234 -> 10.0.0.9:443"

}  // namespace llmtap::action
