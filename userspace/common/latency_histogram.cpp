#include "common/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace llmtap {
namespace {

constexpr double kGrowth = 1.25;

double upper_bound_ns(double first, size_t bucket) { return first * std::pow(kGrowth, bucket); }

size_t bucket_of(double first, uint64_t ns, size_t buckets) {
  if (static_cast<double>(ns) <= first) return 0;
  const double index = std::ceil(std::log(static_cast<double>(ns) / first) / std::log(kGrowth));
  return std::min(static_cast<size_t>(index), buckets - 1);
}

}  // namespace

void LatencyHistogram::add(uint64_t ns) {
  ++counts_[bucket_of(first_bound_ns_, ns, kBuckets)];
  ++count_;
  max_ns_ = std::max(max_ns_, ns);
}

uint64_t LatencyHistogram::percentile(double fraction) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<uint64_t>(std::max(1.0, std::ceil(fraction * count_)));
  uint64_t seen = 0;
  for (size_t bucket = 0; bucket < kBuckets; ++bucket) {
    seen += counts_[bucket];
    if (seen >= rank) {
      return std::min(static_cast<uint64_t>(upper_bound_ns(first_bound_ns_, bucket)), max_ns_);
    }
  }
  return max_ns_;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t bucket = 0; bucket < kBuckets; ++bucket) counts_[bucket] += other.counts_[bucket];
  count_ += other.count_;
  max_ns_ = std::max(max_ns_, other.max_ns_);
}

}  // namespace llmtap
