#include "capture/hold_table.h"

#include <bpf/bpf.h>

#include "llmtap_abi.h"

namespace llmtap::capture {

std::optional<ReleasedHold> HoldTable::release(pid_t pid, uint64_t now_ns) const {
  const auto key = static_cast<uint32_t>(pid);
  llmtap_hold hold{};
  // Atomic: llmtap and its guard may release the same hold at once; only one resumes it.
  if (bpf_map_lookup_and_delete_elem(holds_fd_, &key, &hold) != 0) return std::nullopt;
  ReleasedHold released;
  released.pid = pid;
  released.held_ns = now_ns > hold.since_ns ? now_ns - hold.since_ns : 0;
  released.outcome = resume_stopped_process(pid, hold.start_boottime);
  return released;
}

std::vector<ReleasedHold> HoldTable::release_older_than(uint64_t age_ns, uint64_t now_ns) const {
  std::vector<ReleasedHold> released;
  for (const uint32_t key : keys()) {
    llmtap_hold hold{};
    if (bpf_map_lookup_elem(holds_fd_, &key, &hold) != 0) continue;
    if (age_ns != 0 && now_ns - hold.since_ns < age_ns) continue;
    if (auto r = release(static_cast<pid_t>(key), now_ns)) released.push_back(*r);
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
