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
  ResumeOutcome outcome = ResumeOutcome::kGone;
};

class HoldTable {
 public:
  explicit HoldTable(int holds_fd) : holds_fd_(holds_fd) {}

  // Takes pid's hold, if it is still there (nobody else released it), and resumes the process.
  std::optional<ReleasedHold> release(pid_t pid, uint64_t now_ns) const;
  // Releases every hold stopped at least `age_ns` before `now_ns` (0: every hold).
  std::vector<ReleasedHold> release_older_than(uint64_t age_ns, uint64_t now_ns) const;
  size_t size() const;

 private:
  std::vector<uint32_t> keys() const;

  int holds_fd_;
};

}  // namespace llmtap::capture
