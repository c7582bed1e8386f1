#pragma once
// Latency percentiles in fixed memory: 64 log-spaced buckets (each 25% wider than the last,
// from 1 ms to about 20 minutes), so a percentile is within one bucket (±12%) of the truth
// however many calls a window holds.

#include <array>
#include <cstddef>
#include <cstdint>

namespace llmtap {

class LatencyHistogram {
 public:
  void add(uint64_t ns);
  // The `fraction` (0..1] percentile in ns: the upper bound of the bucket holding it, clamped to
  // the largest value seen. 0 when empty.
  uint64_t percentile(double fraction) const;
  uint64_t count() const { return count_; }
  void merge(const LatencyHistogram& other);

 private:
  static constexpr size_t kBuckets = 64;
  std::array<uint32_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ns_ = 0;
};

}  // namespace llmtap
