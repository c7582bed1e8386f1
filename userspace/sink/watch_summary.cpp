#include "sink/watch_summary.h"

#include <fmt/format.h>

#include <algorithm>

#include "sink/terminal_text.h"

namespace llmtap::sink {
namespace {

constexpr std::string_view kOther = "(other)";

struct Column {
  std::string_view title;
  size_t width;
  Align align;
};

constexpr Column kColumns[] = {
    {"PROVIDER", 14, Align::kLeft}, {"MODEL", 28, Align::kLeft},  {"CALLS", 7, Align::kRight},
    {"ERRORS", 6, Align::kRight},   {"TOK_IN", 9, Align::kRight}, {"TOK_OUT", 9, Align::kRight},
    {"COST", 9, Align::kRight},     {"SENT", 7, Align::kRight},   {"RECV", 7, Align::kRight},
    {"P50", 6, Align::kRight},      {"P95", 6, Align::kRight}};

void append_line(std::string& out, const std::string_view (&cells)[std::size(kColumns)]) {
  for (size_t i = 0; i < std::size(kColumns); ++i) {
    if (i != 0) out.push_back(' ');
    append_cell(out, cells[i], kColumns[i].width, kColumns[i].align);
  }
  out.erase(out.find_last_not_of(' ') + 1);
  out.push_back('\n');
}

// "$0.0042", "$12.35", "$12345"; "-" when no call had an estimate, a trailing "+" when only
// some did (the sum leaves the others out).
std::string human_cost(const WatchSummary::Row& row) {
  if (row.costed_calls == 0) return "-";
  const double usd = row.cost_usd;
  const int decimals = usd < 10 ? 4 : usd < 10'000 ? 2 : 0;
  return fmt::format("${:.{}f}{}", usd, decimals, row.costed_calls < row.calls ? "+" : "");
}

void append_row(std::string& out, const WatchSummary::Row& row) {
  const std::string calls = fmt::format("{}", row.calls);
  const std::string errors = fmt::format("{}", row.errors);
  const std::string tokens_in = fmt::format("{}", row.tokens_in);
  const std::string tokens_out = fmt::format("{}", row.tokens_out);
  const std::string cost = human_cost(row);
  const std::string sent = human_bytes(row.bytes_sent);
  const std::string received = human_bytes(row.bytes_received);
  const std::string p50 = row.p50_ns == 0 ? "-" : human_duration(row.p50_ns);
  const std::string p95 = row.p95_ns == 0 ? "-" : human_duration(row.p95_ns);
  const std::string_view cells[] = {row.provider, row.model,  calls, errors,
                                    tokens_in,    tokens_out, cost,  sent,
                                    received,     p50,        p95};
  append_line(out, cells);
}

}  // namespace

void WatchSummary::count(Group& group, const llm::LlmCall& call) {
  ++group.calls;
  if (call.status == 0 || call.status >= 400 || !call.error_type.empty() ||
      call.response_incomplete) {
    ++group.errors;
  }
  group.tokens_in += call.tokens.input.value_or(0);
  group.tokens_out += call.tokens.output.value_or(0);
  if (call.cost_usd) {
    group.cost_usd += *call.cost_usd;
    ++group.costed_calls;
  }
  group.bytes_sent += call.request_bytes;
  group.bytes_received += call.response_bytes;
  if (call.latency_ns != 0) group.latency.add(call.latency_ns);
}

void WatchSummary::add(const llm::LlmCall& call) {
  const std::string_view provider =
      call.provider.empty() ? std::string_view("-") : std::string_view(call.provider);
  std::string_view model = call.response_model.empty() ? call.request_model : call.response_model;
  if (model.empty()) model = "-";
  auto it = groups_.find(std::pair{provider, model});
  if (it == groups_.end()) {
    const bool full = groups_.size() >= kMaxGroups;
    const auto key = full ? std::pair{kOther, kOther} : std::pair{provider, model};
    it = groups_.find(key);
    if (it == groups_.end()) {
      it = groups_.emplace(std::pair{std::string(key.first), std::string(key.second)}, Group{})
               .first;
    }
  }
  count(it->second, call);
  count(total_, call);
}

void WatchSummary::reset() {
  groups_.clear();
  total_ = {};
}

WatchSummary::Row WatchSummary::row_of(std::string provider, std::string model,
                                       const Group& group) {
  Row row;
  row.provider = std::move(provider);
  row.model = std::move(model);
  row.calls = group.calls;
  row.errors = group.errors;
  row.tokens_in = group.tokens_in;
  row.tokens_out = group.tokens_out;
  row.cost_usd = group.cost_usd;
  row.costed_calls = group.costed_calls;
  row.bytes_sent = group.bytes_sent;
  row.bytes_received = group.bytes_received;
  row.p50_ns = group.latency.percentile(0.50);
  row.p95_ns = group.latency.percentile(0.95);
  return row;
}

std::vector<WatchSummary::Row> WatchSummary::rows() const {
  std::vector<Row> rows;
  rows.reserve(groups_.size());
  for (const auto& [key, group] : groups_) rows.push_back(row_of(key.first, key.second, group));
  // The map already orders by (provider, model); a stable sort keeps that among equal counts.
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.calls > b.calls; });
  return rows;
}

WatchSummary::Row WatchSummary::totals() const { return row_of("TOTAL", "", total_); }

std::string WatchSummary::render(const WatchStyle& style) const {
  std::string out;
  std::string_view titles[std::size(kColumns)];
  for (size_t i = 0; i < std::size(kColumns); ++i) titles[i] = kColumns[i].title;
  if (style.color) out.append(Ansi::kBold);
  append_line(out, titles);
  if (style.color) out.insert(out.size() - 1, Ansi::kReset);
  if (empty()) {
    out += "(no LLM calls)\n";
    return out;
  }
  for (const Row& row : rows()) append_row(out, row);
  append_row(out, totals());
  return out;
}

}  // namespace llmtap::sink
