#pragma once
// Latency percentiles in fixed memory: 64 log-spaced buckets (each 25% wider than the last,
// from 1 ms to about 20 minutes by default; from 10 us to about 12 s for the fine scale that
// holds use), so a percentile is within one bucket (±12%) of the truth however many values a
// window holds.

#include <array>
#include <cstddef>
#include <cstdint>

namespace llmtap {

class LatencyHistogram {
 public:
  static constexpr double kCallScaleNs = 1e6;  // first bucket: up to 1 ms
  static constexpr double kFineScaleNs = 1e4;  // first bucket: up to 10 us
  LatencyHistogram() = default;
  explicit LatencyHistogram(double first_bound_ns) : first_bound_ns_(first_bound_ns) {}
  void add(uint64_t ns);
  // The `fraction` (0..1] percentile in ns: the upper bound of the bucket holding it, clamped to
  // the largest value seen. 0 when empty.
  uint64_t percentile(double fraction) const;
  uint64_t count() const { return count_; }
  void merge(const LatencyHistogram& other);  // of the same scale

 private:
  double first_bound_ns_ = kCallScaleNs;
  static constexpr size_t kBuckets = 64;
  std::array<uint32_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ns_ = 0;
};

}  // namespace llmtap
