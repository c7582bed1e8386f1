#include "policy/volume_tracker.h"

#include <algorithm>

namespace llmtap::policy {

namespace {
constexpr uint64_t kBuckets = 60;
}

VolumeTracker::VolumeTracker(uint64_t window_seconds, size_t max_keys)
    : window_s_(std::max<uint64_t>(1, window_seconds)),
      bucket_s_(std::max<uint64_t>(1, window_s_ / kBuckets)),
      max_keys_(max_keys) {}

VolumeTotals VolumeTracker::add(const std::string& key, uint64_t now_s, uint64_t tokens,
                                uint64_t bytes) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_keys_) {
      entries_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(key);
    it = entries_.emplace(key, Entry{std::vector<Bucket>(kBuckets + 1), 0, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  Entry& e = it->second;
  const uint64_t slot = now_s / bucket_s_;
  Bucket& b = e.buckets[slot % e.buckets.size()];
  if (b.slot != slot) b = Bucket{slot, {}};
  b.totals.tokens += tokens;
  b.totals.bytes += bytes;
  VolumeTotals sum;
  const uint64_t oldest = slot >= window_s_ / bucket_s_ ? slot - window_s_ / bucket_s_ + 1 : 0;
  for (const Bucket& x : e.buckets) {
    if (x.slot >= oldest && x.slot <= slot) {
      sum.tokens += x.totals.tokens;
      sum.bytes += x.totals.bytes;
    }
  }
  return sum;
}

bool VolumeTracker::report_once(const std::string& key, uint64_t now_s) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  if (now_s < it->second.reported_until_s) return false;
  it->second.reported_until_s = now_s + window_s_;
  return true;
}

}  // namespace llmtap::policy
