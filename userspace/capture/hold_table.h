#pragma once
// The kernel's record of the processes llmtap stopped: the `holds` map (who, since when, which
// incarnation), reached by fd. Whoever removes a hold resumes its process. Used by llmtap on
// its own map, by the hold guard, and on the pinned map of an llmtap that died.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "capture/process_resume.h"

namespace llmtap::capture {

struct ReleasedHold {
  pid_t pid = 0;
  uint64_t held_ns = 0;  // from the stop to its release
  uint32_t reason = 0;   // enum llmtap_hold_reason
  bool killed = false;   // ended with SIGKILL (fail-closed, or a blocked writer), not SIGCONT
  ResumeOutcome outcome = ResumeOutcome::kGone;  // of the signal sent
};

// How a hold is ended: resumed; killed; or as the hold itself says when it is ended for
// want of a judgement (deadline, llmtap gone): killed when it was made fail-closed.
enum class HoldEnd { kResume, kKill, kAsRecorded };

class HoldTable {
 public:
  explicit HoldTable(int holds_fd) : holds_fd_(holds_fd) {}

  // Takes pid's hold, if it is still there (nobody else released it), and resumes the process
  // (or kills it, as `end` says).
  std::optional<ReleasedHold> release(pid_t pid, uint64_t now_ns,
                                      HoldEnd end = HoldEnd::kResume) const;
  // Ends every hold stopped at least its deadline before `now_ns`: the hold's own
  // (deadline_ms, prevent holds) or else `default_deadline_ns`; 0 ends every hold. Holds
  // ended for want of a judgement end as recorded (fail-closed ones are killed).
  std::vector<ReleasedHold> release_overdue(uint64_t default_deadline_ns, uint64_t now_ns) const;
  std::vector<ReleasedHold> release_all(uint64_t now_ns) const {
    return release_overdue(0, now_ns);
  }
  size_t size() const;

 private:
  std::vector<uint32_t> keys() const;

  int holds_fd_;
};

}  // namespace llmtap::capture
