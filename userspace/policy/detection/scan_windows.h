#pragma once
// Where in a text a detector's pattern can match, from where its triggers were seen. A
// trigger (a literal every match contains, a keyword every match has nearby, or Hyperscan's
// own match of the pattern) seen ending at byte `end` bounds the match to
// [end - before, end + after); the windows of one detector are merged, so RE2 reads each byte
// at most once per detector, and never more than the whole text.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace llmtap::policy {

struct TriggerReach {
  uint32_t detector = 0;
  uint32_t before = 0;  // bytes before the trigger's end a match can begin
  uint32_t after = 0;   // bytes after the trigger's end a match can end
};

struct ScanWindow {
  uint32_t detector = 0;
  size_t begin = 0;
  size_t end = 0;
};

class ScanWindows {
 public:
  // `max_per_detector`: windows one detector may collect before it is read whole instead
  // (hostile text made of triggers costs one linear pass, not millions of tiny ones).
  ScanWindows(size_t detectors, size_t max_per_detector);

  // As if newly made for `detectors`, keeping the memory (a thread's scans reuse one set): costs
  // the detectors the last scan wanted, not all of them.
  void reset(size_t detectors);
  // Drops the windows, and gives back their memory past a bound (a hostile text's many windows
  // are not held on to between scans).
  void trim();

  // Detectors not `wanted` are ignored; a detector already read whole gets no windows.
  void add(const TriggerReach& reach, size_t trigger_end, size_t text_size);
  void want(uint32_t detector) {
    if (wanted_[detector]) return;
    wanted_[detector] = 1;
    wanted_list_.push_back(detector);
  }
  void read_whole(uint32_t detector) { whole_[detector] = 1; }
  bool wanted(uint32_t detector) const { return wanted_[detector] != 0; }
  bool whole(uint32_t detector) const { return whole_[detector] != 0; }

  // The detectors wanted so far, in increasing order.
  const std::vector<uint32_t>& wanted_detectors();

  // Sorted by detector then offset, overlapping or touching windows of a detector merged;
  // detectors read whole have none. Valid until the next add, merged or reset.
  const std::vector<ScanWindow>& merged();

 private:
  std::vector<ScanWindow> windows_;
  std::vector<ScanWindow> merged_;
  std::vector<uint8_t> wanted_;
  std::vector<uint32_t> wanted_list_;
  std::vector<uint8_t> whole_;
  std::vector<uint32_t> count_;
  size_t max_per_detector_;
};

}  // namespace llmtap::policy
