#include "policy/detection/scan_windows.h"

#include <algorithm>

namespace llmtap::policy {

ScanWindows::ScanWindows(size_t detectors, size_t max_per_detector)
    : wanted_(detectors, 0),
      whole_(detectors, 0),
      count_(detectors, 0),
      max_per_detector_(max_per_detector) {}

void ScanWindows::trim() {
  windows_.clear();
  merged_.clear();
  constexpr size_t kKeptWindows = size_t{1} << 16;
  if (windows_.capacity() > kKeptWindows) windows_.shrink_to_fit();
  if (merged_.capacity() > kKeptWindows) merged_.shrink_to_fit();
}

void ScanWindows::reset(size_t detectors) {
  trim();
  if (wanted_.size() != detectors) {
    wanted_.assign(detectors, 0);
    whole_.assign(detectors, 0);
    count_.assign(detectors, 0);
    wanted_list_.clear();
    return;
  }
  // Windows are counted only for wanted detectors; any detector can have been read whole.
  for (const uint32_t d : wanted_list_) {
    wanted_[d] = 0;
    count_[d] = 0;
  }
  wanted_list_.clear();
  std::fill(whole_.begin(), whole_.end(), uint8_t{0});
}

void ScanWindows::add(const TriggerReach& reach, size_t trigger_end, size_t text_size) {
  const uint32_t d = reach.detector;
  if (!wanted_[d] || whole_[d]) return;
  if (++count_[d] > max_per_detector_) {
    whole_[d] = 1;
    return;
  }
  ScanWindow w;
  w.detector = d;
  w.begin = trigger_end > reach.before ? trigger_end - reach.before : 0;
  w.end = std::min(text_size, trigger_end + reach.after);
  windows_.push_back(w);
}

const std::vector<uint32_t>& ScanWindows::wanted_detectors() {
  std::sort(wanted_list_.begin(), wanted_list_.end());
  return wanted_list_;
}

const std::vector<ScanWindow>& ScanWindows::merged() {
  std::erase_if(windows_, [&](const ScanWindow& w) { return whole_[w.detector] != 0; });
  std::sort(windows_.begin(), windows_.end(), [](const ScanWindow& a, const ScanWindow& b) {
    return a.detector != b.detector ? a.detector < b.detector : a.begin < b.begin;
  });
  std::vector<ScanWindow>& out = merged_;
  out.clear();
  for (const ScanWindow& w : windows_) {
    if (!out.empty() && out.back().detector == w.detector && w.begin <= out.back().end) {
      out.back().end = std::max(out.back().end, w.end);
    } else {
      out.push_back(w);
    }
  }
  windows_.clear();
  return out;
}

}  // namespace llmtap::policy
