#include "metrics/metric_registry.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

#include "common/utf8.h"

namespace llmtap::metrics {

struct MetricRegistry::Series {
  std::string labels_text;  // `a="x",b="y"`, escaped, without braces
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
  std::shared_ptr<const std::function<double()>> read;  // kGaugeFn; replaced under mutex_
};

struct MetricRegistry::Family {
  std::string name;
  std::string help;
  Kind kind = Kind::kCounter;
  std::vector<std::string> label_names;                                // sorted
  std::vector<double> bounds;                                          // kHistogram
  std::map<std::vector<std::string>, std::unique_ptr<Series>> series;  // by label values
  bool overflowed = false;                                             // the "other" series exists
};

namespace {

constexpr std::string_view kHistogramSuffixes[] = {"_bucket", "_sum", "_count"};

bool is_name_char(char c, bool first, bool colon_ok) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (c == ':') return colon_ok;
  return !first && c >= '0' && c <= '9';
}

// [a-zA-Z_:][a-zA-Z0-9_:]* for metrics, [a-zA-Z_][a-zA-Z0-9_]* for labels.
bool is_valid_name(std::string_view name, bool colon_ok) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!is_name_char(name[i], i == 0, colon_ok)) return false;
  }
  return true;
}

void check_metric_name(std::string_view name) {
  if (!is_valid_name(name, true)) {
    throw std::invalid_argument("invalid metric name \"" + std::string(name) + "\"");
  }
}

void check_label_name(std::string_view metric, std::string_view label, bool histogram) {
  if (!is_valid_name(label, false) || label.starts_with("__") || (histogram && label == "le")) {
    throw std::invalid_argument("metric " + std::string(metric) + ": invalid label name \"" +
                                std::string(label) + "\"");
  }
}

// Label values come from traffic: invalid UTF-8 would make Prometheus reject the whole scrape,
// so bad bytes become U+FFFD; the value is cut to a bound so it cannot hold much memory.
std::string clean_label_value(std::string_view value) {
  std::string out;
  out.reserve(std::min(value.size(), MetricRegistry::kMaxLabelValueBytes));
  for (size_t i = 0; i < value.size();) {
    const size_t length = common::utf8_sequence_length(value, i);
    const std::string_view piece = length == 0 ? "\xEF\xBF\xBD" : value.substr(i, length);
    if (out.size() + piece.size() > MetricRegistry::kMaxLabelValueBytes) break;
    out += piece;
    i += length == 0 ? 1 : length;
  }
  return out;
}

void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

std::string labels_text(const std::vector<std::string>& names,
                        const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    append_escaped(out, values[i], true);
    out += '"';
  }
  return out;
}

void append_uint(std::string& out, uint64_t v) {
  char buffer[24];
  const auto end = std::to_chars(buffer, buffer + sizeof(buffer), v).ptr;
  out.append(buffer, end);
}

// Go's ParseFloat (Prometheus) reads what this writes: integers in full (no exponent, up to
// int64), other
// values in the shortest form that reads back exactly, and NaN, +Inf, -Inf spelled its way.
void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::trunc(v) && std::fabs(v) < 9e18) {
    char buffer[24];
    const auto end = std::to_chars(buffer, buffer + sizeof(buffer), static_cast<int64_t>(v)).ptr;
    out.append(buffer, end);
  } else {
    char buffer[32];
    // %g style, like Go's 'g' -1: le="0.0001" reads as client_golang writes it, not 1e-04.
    const auto end =
        std::to_chars(buffer, buffer + sizeof(buffer), v, std::chars_format::general).ptr;
    out.append(buffer, end);
  }
}

// `name{labels}` or `name{labels,extra}`, without braces when there are no labels at all.
void append_series_name(std::string& out, std::string_view name, std::string_view suffix,
                        std::string_view labels, std::string_view extra = {}) {
  out += name;
  out += suffix;
  if (labels.empty() && extra.empty()) return;
  out += '{';
  out += labels;
  if (!labels.empty() && !extra.empty()) out += ',';
  out += extra;
  out += '}';
}

std::string_view type_name(bool histogram, bool counter) {
  return histogram ? "histogram" : counter ? "counter" : "gauge";
}

}  // namespace

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;
  // Bucket i counts values <= bounds_[i]; past the last bound is the +Inf bucket.
  const auto index = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::bucket_counts() const {
  std::vector<uint64_t> counts(bounds_.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) {
    counts[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return counts;
}

uint64_t Histogram::count() const {
  uint64_t total = 0;
  for (const uint64_t n : bucket_counts()) total += n;
  return total;
}

MetricRegistry::MetricRegistry(size_t max_series_per_family)
    : max_series_per_family_(std::max<size_t>(max_series_per_family, 1)) {}

MetricRegistry::~MetricRegistry() = default;

Counter& MetricRegistry::counter(std::string_view name, std::string_view help,
                                 const Labels& labels, bool* folded) {
  return *series(Kind::kCounter, name, help, labels, {}, nullptr, folded).counter;
}

Gauge& MetricRegistry::gauge(std::string_view name, std::string_view help, const Labels& labels,
                             bool* folded) {
  return *series(Kind::kGauge, name, help, labels, {}, nullptr, folded).gauge;
}

Histogram& MetricRegistry::histogram(std::string_view name, std::string_view help,
                                     const Labels& labels, std::span<const double> bounds) {
  return *series(Kind::kHistogram, name, help, labels, bounds).histogram;
}

void MetricRegistry::gauge_fn(std::string_view name, std::string_view help, const Labels& labels,
                              std::function<double()> read) {
  if (!read) throw std::invalid_argument("metric " + std::string(name) + ": empty gauge function");
  series(Kind::kGaugeFn, name, help, labels, {},
         std::make_shared<const std::function<double()>>(std::move(read)));
}

MetricRegistry::Series& MetricRegistry::series(Kind kind, std::string_view name,
                                               std::string_view help, const Labels& labels,
                                               std::span<const double> bounds, Reader read,
                                               bool* folded_out) {
  check_metric_name(name);
  if (name == kSeriesDroppedName) {  // the registry's own: nobody else may shape it
    throw std::invalid_argument("metric name " + std::string(name) + " is reserved");
  }
  if (kind == Kind::kCounter && !name.ends_with("_total")) {
    throw std::invalid_argument("counter " + std::string(name) + " must end in _total");
  }
  if (kind == Kind::kHistogram) {
    const bool increasing =
        std::adjacent_find(bounds.begin(), bounds.end(), std::greater_equal<>()) == bounds.end();
    const bool finite =
        std::all_of(bounds.begin(), bounds.end(), [](double b) { return std::isfinite(b); });
    if (bounds.empty() || !increasing || !finite) {
      throw std::invalid_argument("histogram " + std::string(name) +
                                  ": buckets must be finite and strictly increasing");
    }
  }
  Labels sorted = labels;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> names;
  std::vector<std::string> values;
  for (auto& [label, value] : sorted) {
    check_label_name(name, label, kind == Kind::kHistogram);
    if (!names.empty() && names.back() == label) {
      throw std::invalid_argument("metric " + std::string(name) + ": label " + label +
                                  " given twice");
    }
    names.push_back(std::move(label));
    values.push_back(clean_label_value(value));
  }
  const std::lock_guard lock(mutex_);
  Family& family = family_locked(kind, name, help, names, bounds);
  bool folded = false;
  Series& found = series_locked(family, std::move(values), &folded);
  // A folded ("other") series has no single owner to read from: it keeps no function (NaN).
  if (read && !folded) found.read = std::move(read);
  if (folded_out != nullptr) *folded_out = folded;
  return found;
}

MetricRegistry::Family& MetricRegistry::family_locked(Kind kind, std::string_view name,
                                                      std::string_view help,
                                                      const std::vector<std::string>& label_names,
                                                      std::span<const double> bounds) {
  const auto mismatch = [&](std::string_view what) {
    return std::invalid_argument("metric " + std::string(name) + " registered again with " +
                                 std::string(what));
  };
  if (const auto found = families_.find(name); found != families_.end()) {
    Family& family = *found->second;
    if (family.kind != kind) throw mismatch("another type");
    if (family.help != help) throw mismatch("another help text");
    if (family.label_names != label_names) throw mismatch("other label names");
    if (!std::equal(family.bounds.begin(), family.bounds.end(), bounds.begin(), bounds.end())) {
      throw mismatch("other buckets");
    }
    return family;
  }
  // A histogram's _bucket/_sum/_count samples must not collide with another family's name.
  for (const std::string_view suffix : kHistogramSuffixes) {
    if (name.ends_with(suffix)) {
      const auto base = families_.find(name.substr(0, name.size() - suffix.size()));
      if (base != families_.end() && base->second->kind == Kind::kHistogram) {
        throw std::invalid_argument("metric " + std::string(name) +
                                    " collides with the samples of histogram " + base->first);
      }
    }
    const std::string sample = std::string(name) + std::string(suffix);
    if (kind == Kind::kHistogram && families_.contains(sample)) {
      throw std::invalid_argument("histogram " + std::string(name) + " collides with metric " +
                                  sample);
    }
  }
  auto family = std::make_unique<Family>();
  family->name = name;
  family->help = help;
  family->kind = kind;
  family->label_names = label_names;
  family->bounds.assign(bounds.begin(), bounds.end());
  return *families_.emplace(family->name, std::move(family)).first->second;
}

MetricRegistry::Series& MetricRegistry::series_locked(Family& family,
                                                      std::vector<std::string> values,
                                                      bool* folded) {
  if (const auto found = family.series.find(values); found != family.series.end()) {
    return *found->second;
  }
  const size_t regular = family.series.size() - (family.overflowed ? 1 : 0);
  if (regular >= max_series_per_family_) {
    if (!family.overflowed) {
      spdlog::warn("metric {} reached its bound of {} series; new label sets count as \"{}\"",
                   family.name, max_series_per_family_, kOverflowLabelValue);
      family.overflowed = true;
    }
    if (family.name != kSeriesDroppedName) count_dropped_locked(family.name);
    if (folded != nullptr) *folded = true;
    values.assign(values.size(), std::string(kOverflowLabelValue));
    if (const auto found = family.series.find(values); found != family.series.end()) {
      return *found->second;
    }
  }
  auto series = std::make_unique<Series>();
  series->labels_text = labels_text(family.label_names, values);
  switch (family.kind) {
    case Kind::kCounter:
      series->counter = std::make_unique<Counter>();
      break;
    case Kind::kGauge:
      series->gauge = std::make_unique<Gauge>();
      break;
    case Kind::kHistogram:
      series->histogram = std::make_unique<Histogram>(family.bounds);
      break;
    case Kind::kGaugeFn:
      break;  // gauge_fn sets the function
  }
  return *family.series.emplace(std::move(values), std::move(series)).first->second;
}

void MetricRegistry::count_dropped_locked(const std::string& family_name) {
  Family& dropped = family_locked(
      Kind::kCounter, kSeriesDroppedName,
      "Label sets folded into the \"other\" series because their metric reached its series bound.",
      {"metric"}, {});
  series_locked(dropped, {family_name}).counter->add();
}

std::string MetricRegistry::render() const {
  // Pointers are taken under the lock (families and series are never removed, and their
  // identity fields never change); values are read and formatted after it, so a scrape and
  // its gauge functions never hold up a thread creating a series.
  struct Row {
    const Series* series;
    std::shared_ptr<const std::function<double()>> read;
  };
  std::vector<std::pair<const Family*, std::vector<Row>>> snapshot;
  {
    const std::lock_guard lock(mutex_);
    snapshot.reserve(families_.size());
    for (const auto& [name, family] : families_) {
      if (family->series.empty()) continue;
      std::vector<Row> rows;
      rows.reserve(family->series.size());
      for (const auto& [values, series] : family->series)
        rows.push_back({series.get(), series->read});
      snapshot.emplace_back(family.get(), std::move(rows));
    }
  }
  std::string out;
  for (const auto& [family, rows] : snapshot) {
    out += "# HELP ";
    out += family->name;
    out += ' ';
    append_escaped(out, family->help, false);
    out += "\n# TYPE ";
    out += family->name;
    out += ' ';
    out += type_name(family->kind == Kind::kHistogram, family->kind == Kind::kCounter);
    out += '\n';
    for (const Row& row : rows) {
      const std::string& labels = row.series->labels_text;
      if (family->kind == Kind::kHistogram) {
        const Histogram& h = *row.series->histogram;
        const std::vector<uint64_t> counts = h.bucket_counts();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          std::string le = "le=\"";
          if (i < family->bounds.size()) {
            append_double(le, family->bounds[i]);
          } else {
            le += "+Inf";
          }
          le += '"';
          append_series_name(out, family->name, "_bucket", labels, le);
          out += ' ';
          append_uint(out, cumulative);
          out += '\n';
        }
        append_series_name(out, family->name, "_sum", labels);
        out += ' ';
        append_double(out, h.sum());
        out += '\n';
        // From the same bucket reads as +Inf, so the two always agree.
        append_series_name(out, family->name, "_count", labels);
        out += ' ';
        append_uint(out, cumulative);
        out += '\n';
        continue;
      }
      append_series_name(out, family->name, "", labels);
      out += ' ';
      if (family->kind == Kind::kCounter) {
        append_uint(out, row.series->counter->value());
      } else if (family->kind == Kind::kGauge) {
        append_double(out, row.series->gauge->value());
      } else {
        double value = std::nan("");
        try {
          if (row.read) value = (*row.read)();
        } catch (...) {  // a failing reader must not fail the scrape (or the server thread)
        }
        append_double(out, value);
      }
      out += '\n';
    }
  }
  return out;
}

}  // namespace llmtap::metrics
