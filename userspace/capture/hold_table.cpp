#include "capture/hold_table.h"

#include <bpf/bpf.h>
#include <signal.h>

#include "llmtap_abi.h"

namespace llmtap::capture {

std::optional<ReleasedHold> HoldTable::release(pid_t pid, uint64_t now_ns, HoldEnd end) const {
  const auto key = static_cast<uint32_t>(pid);
  llmtap_hold hold{};
  // Atomic: llmtap and its guard may release the same hold at once; only one resumes it.
  if (bpf_map_lookup_and_delete_elem(holds_fd_, &key, &hold) != 0) return std::nullopt;
  ReleasedHold released;
  released.pid = pid;
  released.held_ns = now_ns > hold.since_ns ? now_ns - hold.since_ns : 0;
  released.reason = hold.reason;
  released.killed = end == HoldEnd::kKill ||
                    (end == HoldEnd::kAsRecorded && (hold.flags & LLMTAP_HOLD_FAIL_CLOSED) != 0);
  released.outcome = released.killed ? signal_process_started_at(
                                           pid, boottime_ns_to_ticks(hold.start_boottime), SIGKILL)
                                     : resume_stopped_process(pid, hold.start_boottime);
  return released;
}

std::vector<ReleasedHold> HoldTable::release_overdue(uint64_t default_deadline_ns,
                                                     uint64_t now_ns) const {
  std::vector<ReleasedHold> released;
  for (const uint32_t key : keys()) {
    llmtap_hold hold{};
    if (bpf_map_lookup_elem(holds_fd_, &key, &hold) != 0) continue;
    if (default_deadline_ns != 0) {
      const uint64_t deadline_ns =
          hold.deadline_ms != 0 ? uint64_t{hold.deadline_ms} * 1'000'000 : default_deadline_ns;
      if (now_ns - hold.since_ns < deadline_ns) continue;
    }
    if (auto r = release(static_cast<pid_t>(key), now_ns, HoldEnd::kAsRecorded)) {
      released.push_back(*r);
    }
  }
  return released;
}

size_t HoldTable::size() const { return keys().size(); }

std::vector<uint32_t> HoldTable::keys() const {
  std::vector<uint32_t> out;
  uint32_t key = 0;
  uint32_t next = 0;
  const uint32_t* prev = nullptr;
  // Bounded: a map never holds more than LLMTAP_MAX_HOLDS entries, whatever happens to it
  // while we walk it.
  while (out.size() < LLMTAP_MAX_HOLDS && bpf_map_get_next_key(holds_fd_, prev, &next) == 0) {
    out.push_back(next);
    key = next;
    prev = &key;
  }
  return out;
}

}  // namespace llmtap::capture
