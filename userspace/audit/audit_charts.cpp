#include "audit/audit_charts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "audit/audit_html.h"
#include "audit/audit_text.h"

namespace llmtap::audit {
namespace {

// A coordinate or length for an SVG attribute: one decimal, no trailing ".0".
std::string coord(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  std::string s = text;
  if (s.size() > 2 && s.ends_with(".0")) s.resize(s.size() - 2);
  return s == "-0" ? "0" : s;
}

// A value for data-value: exact for integers, else up to 15 significant digits.
std::string exact(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", v);
  return text;
}

std::string count_text(double v) {
  return v >= 0 && v < 1e18 && v == std::floor(v) ? thousands(static_cast<uint64_t>(v))
                                                  : compact_number(v);
}

// "1:05" from the window's start; hours when the window is that long.
std::string offset_label(double seconds) {
  const auto s = static_cast<long long>(std::llround(std::clamp(seconds, 0.0, 1e12)));
  char text[48];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld:%02lld", s / 60, s % 60);
  }
  return text;
}

// A value fit to draw: negative, not a number or beyond any real count would make the SVG's
// coordinates meaningless (and the browser complain).
double drawable(double v) { return std::isfinite(v) ? std::clamp(v, 0.0, 1e15) : 0; }

// A round step for about `ticks` gridlines up to `max` (whole numbers: counts).
double nice_step(double max, int ticks) {
  if (!(max > 0)) return 1;
  const double raw = max / ticks;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  const double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  return std::max(1.0, step);
}

}  // namespace

std::string compact_number(double value) {
  if (!std::isfinite(value)) return "?";
  const double a = std::fabs(value);
  char text[32];
  static constexpr struct {
    double scale;
    const char* suffix;
  } kUnits[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
  for (const auto& u : kUnits) {
    if (a >= u.scale) {
      const double scaled = value / u.scale;
      std::snprintf(text, sizeof text, std::fabs(scaled) < 10 ? "%.1f" : "%.0f", scaled);
      std::string s = text;
      if (s.ends_with(".0")) s.resize(s.size() - 2);  // "2.0k" -> "2k"
      s += u.suffix;
      return s;
    }
  }
  std::snprintf(text, sizeof text, value == std::floor(value) ? "%.0f" : "%.3g", value);
  return text;
}

std::string render_stacked_bars(const StackedBarChart& chart) {
  constexpr double kWidth = 560, kHeight = 250;
  constexpr double kLeft = 46, kRight = 10, kTop = 18, kBottom = 26;
  constexpr double kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;

  size_t buckets = 0;
  for (const ChartSeries& s : chart.series) buckets = std::max(buckets, s.values.size());
  buckets = std::max<size_t>(buckets, 1);
  std::vector<double> totals(buckets, 0);
  for (const ChartSeries& s : chart.series) {
    for (size_t i = 0; i < s.values.size(); ++i) totals[i] += drawable(s.values[i]);
  }
  const double max_total = *std::max_element(totals.begin(), totals.end());
  const double step = nice_step(max_total, 4);
  const double top = std::max(step, std::ceil(max_total / step) * step);
  const auto y_of = [&](double v) { return kTop + kPlotH - v / top * kPlotH; };
  const double slot = kPlotW / static_cast<double>(buckets);
  const double bar_w = std::min(48.0, slot * 0.7);

  std::string out;
  out += "<svg id=\"" + html_escape(chart.id) + "\" class=\"chart stacked\" viewBox=\"0 0 " +
         coord(kWidth) + " " + coord(kHeight) + "\" role=\"img\" aria-label=\"" +
         html_escape(chart.title) + "\">";
  out += "<title>" + html_escape(chart.title) + "</title>";
  // Gridlines and the y axis' numbers.
  const auto ticks = static_cast<int>(std::lround(top / step));
  for (int k = 0; k <= ticks; ++k) {
    const double t = k * step;
    const std::string y = coord(y_of(t));
    out += "<line class=\"grid\" x1=\"" + coord(kLeft) + "\" x2=\"" + coord(kWidth - kRight) +
           "\" y1=\"" + y + "\" y2=\"" + y + "\"/>";
    out += "<text class=\"tick\" x=\"" + coord(kLeft - 6) + "\" y=\"" + coord(y_of(t) + 4) +
           "\" text-anchor=\"end\">" + compact_number(t) + "</text>";
  }
  // The bars, bottom up in series order, and each bucket's total above.
  const size_t label_every = (buckets + 11) / 12;
  const bool show_totals = buckets <= 24;
  for (size_t i = 0; i < buckets; ++i) {
    const double x = kLeft + static_cast<double>(i) * slot + (slot - bar_w) / 2;
    const std::string when =
        chart.bucket_seconds > 0
            ? offset_label(static_cast<double>(i) * chart.bucket_seconds) + "–" +
                  offset_label(static_cast<double>(i + 1) * chart.bucket_seconds)
            : "bucket " + std::to_string(i + 1);
    double base = 0;
    for (const ChartSeries& s : chart.series) {
      const double v = i < s.values.size() ? drawable(s.values[i]) : 0;
      if (v <= 0) continue;
      const double y0 = y_of(base), y1 = y_of(base + v);
      out += "<rect class=\"bar " + html_escape(s.css_class) + "\" x=\"" + coord(x) + "\" y=\"" +
             coord(y1) + "\" width=\"" + coord(bar_w) + "\" height=\"" +
             coord(std::max(0.5, y0 - y1)) + "\" data-bucket=\"" + std::to_string(i) +
             "\" data-value=\"" + exact(v) + "\" data-series=\"" + html_escape(s.label) +
             "\"><title>" + html_escape(s.label) + ": " + count_text(v) + " " +
             html_escape(chart.unit) + " (" + when + ")</title></rect>";
      base += v;
    }
    if (show_totals && totals[i] > 0) {
      out += "<text class=\"total\" x=\"" + coord(x + bar_w / 2) + "\" y=\"" +
             coord(y_of(totals[i]) - 4) + "\" text-anchor=\"middle\">" + compact_number(totals[i]) +
             "</text>";
    }
    if (i % label_every == 0) {
      const std::string label = chart.bucket_seconds > 0
                                    ? offset_label(static_cast<double>(i) * chart.bucket_seconds)
                                    : std::to_string(i + 1);
      out += "<text class=\"tick\" x=\"" + coord(x + bar_w / 2) + "\" y=\"" +
             coord(kHeight - kBottom + 16) + "\" text-anchor=\"middle\">" + label + "</text>";
    }
  }
  out += "<line class=\"axis\" x1=\"" + coord(kLeft) + "\" x2=\"" + coord(kWidth - kRight) +
         "\" y1=\"" + coord(y_of(0)) + "\" y2=\"" + coord(y_of(0)) + "\"/>";
  out += "</svg>\n";

  out += "<ul class=\"legend\">";
  for (const ChartSeries& s : chart.series) {
    double total = 0;
    for (double v : s.values) total += drawable(v);
    out += "<li><span class=\"swatch " + html_escape(s.css_class) + "\"></span>" +
           html_escape(s.label) + " <span class=\"muted\">" + count_text(total) + " " +
           html_escape(chart.unit) + "</span></li>";
  }
  out += "</ul>\n";
  return out;
}

std::string render_horizontal_bars(std::string_view id, std::string_view title,
                                   std::string_view unit, const std::vector<CategoryBar>& bars) {
  constexpr double kWidth = 1000, kRow = 30, kBar = 18;
  constexpr double kLabelW = 90, kValueW = 70;
  constexpr double kPlotW = kWidth - kLabelW - kValueW;
  const double height = kRow * static_cast<double>(std::max<size_t>(bars.size(), 1)) + 4;
  double max = 0;
  for (const CategoryBar& b : bars) max = std::max(max, drawable(b.value));

  std::string out;
  out += "<svg id=\"" + html_escape(id) + "\" class=\"chart horizontal\" viewBox=\"0 0 " +
         coord(kWidth) + " " + coord(height) + "\" role=\"img\" aria-label=\"" +
         html_escape(title) + "\">";
  out += "<title>" + html_escape(title) + "</title>";
  for (size_t i = 0; i < bars.size(); ++i) {
    const CategoryBar& b = bars[i];
    const double value = drawable(b.value);
    const double y = 2 + kRow * static_cast<double>(i);
    const double mid = y + kRow / 2 + 4;
    out += "<text class=\"category\" x=\"" + coord(kLabelW - 10) + "\" y=\"" + coord(mid) +
           "\" text-anchor=\"end\">" + html_escape(b.label) + "</text>";
    double w = 0;
    if (value > 0 && max > 0) {
      w = std::max(2.0, value / max * kPlotW);
      out += "<rect class=\"bar " + html_escape(b.css_class) + "\" x=\"" + coord(kLabelW) +
             "\" y=\"" + coord(y + (kRow - kBar) / 2) + "\" width=\"" + coord(w) + "\" height=\"" +
             coord(kBar) + "\" rx=\"3\" data-value=\"" + exact(value) + "\" data-category=\"" +
             html_escape(b.label) + "\"><title>" + html_escape(b.label) + ": " + count_text(value) +
             " " + html_escape(unit) + "</title></rect>";
    }
    out += "<text class=\"value" + std::string(value > 0 ? "" : " zero") + "\" x=\"" +
           coord(kLabelW + w + 8) + "\" y=\"" + coord(mid) + "\">" + count_text(value) + "</text>";
  }
  out += "</svg>\n";
  return out;
}

}  // namespace llmtap::audit
