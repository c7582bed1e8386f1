#pragma once
// The HTML report's charts as inline SVG, from plain series: stacked bars over the window's
// buckets and horizontal bars by category. Every bar is a `<rect class="bar" data-value=..>`
// with a `<title>` (the browser's tooltip), so a person can hover and a test can count.

#include <string>
#include <string_view>
#include <vector>

namespace llmtap::audit {

struct ChartSeries {
  std::string label;           // "openai · gpt-4o"
  std::string css_class;       // its colour: "s0".."s7", "s-other"
  std::vector<double> values;  // one a bucket
};

struct StackedBarChart {
  std::string id;             // the <svg>'s id: "chart-calls"
  std::string title;          // the chart's own <title>
  std::string unit;           // "calls", "tokens": in tooltips and the legend
  double bucket_seconds = 0;  // x labels are offsets from the window's start (m:ss)
  std::vector<ChartSeries> series;
};

// The SVG and, below it, its legend (an HTML list with each series' total).
std::string render_stacked_bars(const StackedBarChart& chart);

struct CategoryBar {
  std::string label;      // "high"
  std::string css_class;  // "sev-high"
  double value = 0;
};

// One labelled row a category; a zero draws no bar, only its value.
std::string render_horizontal_bars(std::string_view id, std::string_view title,
                                   std::string_view unit, const std::vector<CategoryBar>& bars);

// Axis and tooltip numbers: "950", "1.2k", "3.4M".
std::string compact_number(double value);

}  // namespace llmtap::audit
