#pragma once
// Tokens and bytes per key (a process, container or pod) over a sliding window, in bounded
// memory: per key a ring of per-minute buckets, at most `max_keys` keys (the least recently
// seen go first).

#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

namespace llmtap::policy {

struct VolumeTotals {
  uint64_t tokens = 0;
  uint64_t bytes = 0;
};

class VolumeTracker {
 public:
  VolumeTracker(uint64_t window_seconds, size_t max_keys = 10000);

  // Adds to `key` at `now_s` (seconds) and returns the totals over the window ending now.
  VolumeTotals add(const std::string& key, uint64_t now_s, uint64_t tokens, uint64_t bytes);
  // Whether `key` was already reported in the window that contains `now_s` (and marks it).
  bool report_once(const std::string& key, uint64_t now_s);
  size_t keys() const { return entries_.size(); }

 private:
  struct Bucket {
    uint64_t slot = 0;  // now_s / bucket_seconds
    VolumeTotals totals;
  };
  struct Entry {
    std::vector<Bucket> buckets;  // ring
    uint64_t reported_until_s = 0;
    std::list<std::string>::iterator lru;
  };

  uint64_t window_s_;
  uint64_t bucket_s_;
  size_t max_keys_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recent first
};

}  // namespace llmtap::policy
