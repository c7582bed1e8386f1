#pragma once
// Holds outlive the agent: llmtap pins its `holds` map, its `.bss` (the hold switch and
// counters: "control") and the ring of hold notices in bpffs under <root>/<pid>_<start ticks>/.
// Its hold guard works on them, and the next llmtap finds there what a dead one and its dead
// guard left: it resumes those processes and removes the pins.

#include <cstdint>
#include <string>

namespace llmtap::capture {

inline constexpr const char* kBpffsRoot = "/sys/fs/bpf";
inline constexpr const char* kHoldPinRoot = "/sys/fs/bpf/llmtap";

// Mounts bpffs at /sys/fs/bpf when nothing is mounted there (needs CAP_SYS_ADMIN). Returns
// true when it mounted it; throws CaptureError when there is none and it cannot mount one.
bool ensure_bpffs_mounted();

struct OrphanSweep {
  uint64_t agents = 0;   // pin directories of llmtap processes that are gone
  uint64_t resumed = 0;  // processes they had stopped, resumed now
};

// Resumes every process recorded under `root` by an llmtap that no longer runs, and removes
// its pins. Directories of running llmtap processes are left alone.
OrphanSweep sweep_orphaned_holds(const std::string& root = kHoldPinRoot);

inline constexpr const char* kHoldsPinName = "holds";
inline constexpr const char* kControlPinName = "control";
// A ring of one notice per hold made: the guard sleeps on it while `holds` is empty.
inline constexpr const char* kHoldNoticesPinName = "hold_notices";

// This process's pin directory under `root` (created), and the pins in it.
class HoldPins {
 public:
  HoldPins(int holds_fd, int control_fd, int notices_fd,
           const std::string& root = kHoldPinRoot);
  ~HoldPins();  // unpins and removes the directory
  HoldPins(const HoldPins&) = delete;
  HoldPins& operator=(const HoldPins&) = delete;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace llmtap::capture
