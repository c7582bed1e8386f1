#pragma once
// The agent's own metrics: counters, gauges and duration histograms with labels, rendered in
// the Prometheus text exposition format 0.0.4. A series handle is looked up once (under a
// mutex) and then updated with a relaxed atomic, so hot paths pay one atomic add. Each family
// holds a bounded number of series: label values come from traffic (model names), and
// hostile traffic must not grow the agent's memory.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmtap::metrics {

// Label name -> value. Order does not matter: series are keyed by label names sorted.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Durations in seconds from 100 us to 10 s: holds (us to ms) and sink latency (ms to s).
inline constexpr std::array<double, 16> kDurationBucketsSeconds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};

// A monotonic count. alignas keeps two hot counters off one cache line.
class alignas(64) Counter {
 public:
  void add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down.
class alignas(64) Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted into fixed buckets (upper bounds, `le`), plus their sum.
class Histogram {
 public:
  explicit Histogram(std::span<const double> bounds);
  void observe(double value);  // NaN is ignored: it would poison the sum forever
  void observe(std::chrono::nanoseconds duration) {
    observe(std::chrono::duration<double>(duration).count());
  }
  // Per-bucket (not cumulative) counts; the last is the +Inf bucket.
  std::vector<uint64_t> bucket_counts() const;
  uint64_t count() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  std::span<const double> bounds() const { return bounds_; }

 private:
  std::span<const double> bounds_;  // owned by the family, which outlives the series
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
};

class MetricRegistry {
 public:
  static constexpr size_t kDefaultMaxSeriesPerFamily = 2000;
  // Label values longer than this are cut (at a UTF-8 boundary): they come from traffic.
  static constexpr size_t kMaxLabelValueBytes = 256;
  static constexpr std::string_view kOverflowLabelValue = "other";
  static constexpr std::string_view kSeriesDroppedName = "llmtap_metrics_series_dropped_total";

  explicit MetricRegistry(size_t max_series_per_family = kDefaultMaxSeriesPerFamily);
  ~MetricRegistry();
  MetricRegistry(const MetricRegistry&) = delete;  // handles point into it
  MetricRegistry& operator=(const MetricRegistry&) = delete;

  // The series for `labels`, created on first use; the reference lives as long as the
  // registry. Throws std::invalid_argument for a bad metric or label name, a counter not named
  // *_total, or a name reused with another type, help, label names or buckets. Once a family
  // holds max_series_per_family series, a new label set gets the series whose label values
  // are all "other", and llmtap_metrics_series_dropped_total{metric=...} counts the lookup.
  // With `folded`: set to whether the label set went to the "other" series. A caller that
  // keeps the handle for later updates (a per-label-set cache) must not keep a folded one:
  // each folded lookup is counted in llmtap_metrics_series_dropped_total.
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {},
                   bool* folded = nullptr);
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {},
               bool* folded = nullptr);
  Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels = {},
                       std::span<const double> bounds = kDurationBucketsSeconds);
  // A gauge whose value `read` returns at scrape time, for values owned elsewhere (queue
  // depth, spool bytes). `read` runs on the scraping thread without the registry's lock; it
  // must be cheap, thread-safe and valid as long as the registry. Registering the same series
  // again replaces its function. A `read` that throws renders NaN.
  void gauge_fn(std::string_view name, std::string_view help, const Labels& labels,
                std::function<double()> read);

  // Every family, sorted by name, in the text exposition format 0.0.4.
  std::string render() const;

 private:
  struct Family;
  struct Series;
  enum class Kind { kCounter, kGauge, kGaugeFn, kHistogram };

  using Reader = std::shared_ptr<const std::function<double()>>;
  // Validates, then finds or creates the series; `read` is installed for kGaugeFn.
  Series& series(Kind kind, std::string_view name, std::string_view help, const Labels& labels,
                 std::span<const double> bounds, Reader read = nullptr, bool* folded = nullptr);
  Family& family_locked(Kind kind, std::string_view name, std::string_view help,
                        const std::vector<std::string>& label_names,
                        std::span<const double> bounds);
  // Sets *folded when the label set went to the "other" series.
  Series& series_locked(Family& family, std::vector<std::string> values, bool* folded = nullptr);
  void count_dropped_locked(const std::string& family_name);

  const size_t max_series_per_family_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

}  // namespace llmtap::metrics
