#include "audit/audit_html.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include "audit/audit_charts.h"
#include "audit/audit_text.h"
#include "common/utf8.h"

namespace llmtap::audit {
namespace {

using nlohmann::json;

constexpr const char* kMissing = "—";
constexpr std::array<const char*, 5> kSeverities = {"critical", "high", "medium", "low", "info"};

// ---- reading the report: every field may be missing, null or of another type ----

const json& member(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  const auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

const json& list(const json& j, const char* key) {
  static const json kEmpty = json::array();
  const json& v = member(j, key);
  return v.is_array() ? v : kEmpty;
}

std::optional<std::string> string_of(const json& j, const char* key) {
  const json& v = member(j, key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return std::nullopt;
}

std::optional<double> number_of(const json& j, const char* key) {
  const json& v = member(j, key);
  if (!v.is_number()) return std::nullopt;
  const double d = v.get<double>();
  return std::isfinite(d) ? std::optional(d) : std::nullopt;
}

// A count: a non-negative whole number.
std::optional<uint64_t> count_of(const json& j, const char* key) {
  const json& v = member(j, key);
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<int64_t>();
  if (v.is_number_float() && v.get<double>() >= 0 && v.get<double>() < 1.8e19) {
    return static_cast<uint64_t>(v.get<double>());
  }
  return std::nullopt;
}

// Escaped text of a field, or the dash.
std::string text_of(const json& j, const char* key) {
  const auto s = string_of(j, key);
  return s && !s->empty() ? html_escape(*s) : kMissing;
}

std::string count_text(const json& j, const char* key) {
  const auto n = count_of(j, key);
  return n ? thousands(*n) : kMissing;
}

std::string plural(uint64_t n, const char* one, const char* many) {
  return thousands(n) + " " + (n == 1 ? one : many);
}

std::string severity_class(std::string_view severity) {
  for (const char* s : kSeverities) {
    if (severity == s) return std::string("sev-") + s;
  }
  return "sev-unknown";
}

// Severity counts of a {"high": 2, ...} object, most severe first, then any others.
std::vector<std::pair<std::string, uint64_t>> severity_counts(const json& by_severity) {
  std::vector<std::pair<std::string, uint64_t>> out;
  if (!by_severity.is_object()) return out;
  for (const char* s : kSeverities) {
    if (const auto n = count_of(by_severity, s)) out.emplace_back(s, *n);
  }
  for (const auto& [key, value] : by_severity.items()) {
    if (severity_class(key) == "sev-unknown" && value.is_number()) {
      out.emplace_back(key, count_of(by_severity, key.c_str()).value_or(0));
    }
  }
  return out;
}

// "2026-11-30T14:00:03Z" -> {"2026-11-30", "14:00:03"}; nullopt when not of that shape.
std::optional<std::pair<std::string, std::string>> utc_stamp(const std::optional<std::string>& s) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (!s || s->size() < kShape.size() + 1 || s->back() != 'Z') return std::nullopt;
  for (size_t i = 0; i < kShape.size(); ++i) {
    const char c = (*s)[i];
    if (kShape[i] == 'd' ? (c < '0' || c > '9') : c != kShape[i]) return std::nullopt;
  }
  return std::pair(s->substr(0, 10), s->substr(11, 8));
}

std::string duration_text(double seconds) {
  char text[64];
  if (!(seconds >= 0 && seconds < 1e12)) return "?";
  const auto s = static_cast<long long>(std::llround(seconds));
  if (seconds < 120) {
    std::snprintf(text, sizeof text, "%g s", std::round(seconds * 10) / 10);
  } else if (s < 7200) {
    std::snprintf(text, sizeof text, s % 60 ? "%lld min %lld s" : "%lld min", s / 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld h %lld min", s / 3600, s / 60 % 60);
  }
  return text;
}

// ---- pieces of the page ----

// "comm" and pid, the executable below.
std::string process_cell(const json& process, bool with_exe = true) {
  std::string out = "<span class=\"proc\">" + text_of(process, "comm") + "</span>";
  if (const auto pid = count_of(process, "pid")) {
    out += " <span class=\"muted\">pid " + std::to_string(*pid) + "</span>";
  }
  if (with_exe) {
    if (const auto exe = string_of(process, "exe"); exe && !exe->empty()) {
      out += "<div class=\"sub mono path\">" + html_escape(*exe) + "</div>";
    }
  }
  return out;
}

// The pod (namespace/name) or container of a workload; "host" for a host process.
std::string workload_cell(const json& workload) {
  if (!workload.is_object()) return "<span class=\"muted\">host</span>";
  const auto pod = string_of(workload, "pod_name");
  const auto container = string_of(workload, "container_name");
  const auto id = string_of(workload, "container_id");
  std::string out;
  if (pod && !pod->empty()) {
    out = "<span class=\"pod\" title=\"pod\">" + text_of(workload, "pod_namespace") + "/" +
          html_escape(*pod) + "</span>";
    if (container && !container->empty()) {
      out += "<div class=\"sub\">container " + html_escape(*container) + "</div>";
    }
  } else {
    out = "<span class=\"container\">container " +
          html_escape(container && !container->empty() ? *container
                      : id                             ? id->substr(0, 12)
                                                       : std::string("?")) +
          "</span>";
  }
  if (const auto image = string_of(workload, "image"); image && !image->empty()) {
    out += "<div class=\"sub mono path\">" + html_escape(*image) + "</div>";
  }
  return out;
}

std::string severity_pill(std::string_view severity, std::optional<uint64_t> n = std::nullopt) {
  return "<span class=\"pill " + severity_class(severity) + "\">" +
         (n ? thousands(*n) + " " : std::string()) + html_escape(severity) + "</span>";
}

std::string cost_text(const json& j, const char* key) {
  const auto usd = number_of(j, key);
  return usd && *usd >= 0 ? dollars(*usd) : kMissing;
}

// A summary card: `value` is already HTML; `data_value` is the plain number, if any.
std::string card(const char* id, const char* label, const std::string& value,
                 const std::optional<std::string>& data_value, const std::string& sub,
                 const char* modifier = "") {
  std::string out = "<div class=\"card";
  if (*modifier) out += std::string(" ") + modifier;
  out += "\"><div class=\"label\">" + std::string(label) + "</div><div class=\"value\" id=\"" + id +
         "\"";
  if (data_value) out += " data-value=\"" + html_escape(*data_value) + "\"";
  out += ">" + value + "</div>";
  if (!sub.empty()) out += "<div class=\"sub\">" + sub + "</div>";
  return out + "</div>\n";
}

std::string count_card(const json& summary, const char* key, const char* id, const char* label,
                       const std::string& sub, const char* modifier_if_nonzero = "") {
  const auto n = count_of(summary, key);
  return card(id, label, n ? thousands(*n) : kMissing,
              n ? std::optional(std::to_string(*n)) : std::nullopt, sub,
              n && *n > 0 ? modifier_if_nonzero : "");
}

std::string table_start(const char* id, std::initializer_list<const char*> headers) {
  std::string out = "<div class=\"table-wrap\"><table id=\"" + std::string(id) + "\"><thead><tr>";
  for (const char* h : headers) {
    const bool numeric = *h == '#';  // "#Calls": a right-aligned number column
    out += numeric ? "<th class=\"num\">" + std::string(h + 1) + "</th>"
                   : "<th>" + std::string(h) + "</th>";
  }
  return out + "</tr></thead><tbody>\n";
}

std::string empty_note(const char* id, const char* text) {
  return "<p class=\"empty\" id=\"" + std::string(id) + "\">" + text + "</p>\n";
}

// ---- the sections ----

std::string verdict(const json& status) {
  const auto exit_code = count_of(status, "exit_code");
  const auto fail_on = string_of(status, "fail_on");
  const std::string on = fail_on ? html_escape(*fail_on) : "high";
  const auto failing = count_of(status, "findings_at_or_above").value_or(0);
  std::string css = "unknown", text = "Exit status unknown";
  if (exit_code == 0u) {
    css = "ok";
    text = fail_on == "never" ? "Clean: findings do not fail this audit (--fail-on never)"
                              : "Clean: no findings at or above " + on;
  } else if (exit_code == 1u) {
    css = "fail";
    text = plural(failing, "finding", "findings") + " at or above " + on;
  } else if (exit_code == 2u) {
    css = "error";
    text = "The audit could not run";
  }
  std::string out = "<div id=\"verdict\" class=\"verdict " + css + "\"";
  if (exit_code) out += " data-exit-code=\"" + std::to_string(*exit_code) + "\"";
  out += "><span class=\"dot\"></span>" + text;
  if (exit_code) out += " <span class=\"exit\">exit " + std::to_string(*exit_code) + "</span>";
  return out + "</div>\n";
}

std::string page_header(const json& report) {
  const json& host = member(report, "host");
  const json& window = member(report, "window");
  const json& policy = member(report, "policy");
  const json& status = member(report, "status");
  std::string out = "<header class=\"page\"><div class=\"wrap\">\n";
  out += "<div class=\"brand\">llmtap audit</div>\n";
  out += "<h1 id=\"host\">" + text_of(host, "name") + "</h1>\n";
  out += verdict(status);
  if (const auto error = string_of(status, "error"); error && !error->empty()) {
    out += "<div class=\"error-box\" id=\"status-error\">" + html_escape(*error) + "</div>\n";
  }

  out += "<dl class=\"meta\">";
  const auto started = string_of(window, "started");
  const auto ended = string_of(window, "ended");
  const auto s = utc_stamp(started);
  const auto e = utc_stamp(ended);
  std::string when;
  if (s && e) {
    when = s->first + " " + s->second + " – " + (e->first == s->first ? "" : e->first + " ") +
           e->second + " UTC";
  } else {
    when = (started ? html_escape(*started) : kMissing) + std::string(" – ") +
           (ended ? html_escape(*ended) : kMissing);
  }
  if (const auto d = number_of(window, "duration_seconds"); d && *d >= 0) {
    when += " <span class=\"muted\">(" + duration_text(*d) + ")</span>";
  }
  out += "<dt>Window</dt><dd id=\"window\">" + when + "</dd>";
  std::string sources;
  for (const json& source : list(policy, "sources")) {
    if (!source.is_string()) continue;
    sources += std::string(sources.empty() ? "" : ", ") + "<span class=\"mono\">" +
               html_escape(source.get<std::string>()) + "</span>";
  }
  if (sources.empty()) sources = kMissing;
  if (const auto rules = count_of(policy, "rules")) {
    sources += " <span class=\"muted\">(" + plural(*rules, "rule", "rules") + ")</span>";
  }
  out += "<dt>Policy</dt><dd id=\"policy\">" + sources + "</dd>";
  out += "<dt>Fails on</dt><dd>" + text_of(status, "fail_on") + "</dd>";
  out += "<dt>Host</dt><dd>kernel " + text_of(host, "kernel") + " · llmtap " +
         text_of(host, "llmtap_version") + "</dd>";
  out += "</dl>\n";

  std::string notes;
  for (const json& note : list(status, "notes")) {
    if (note.is_string()) notes += "<li>" + html_escape(note.get<std::string>()) + "</li>";
  }
  if (!notes.empty()) out += "<ul class=\"notes\" id=\"notes\">" + notes + "</ul>\n";
  return out + "</div></header>\n";
}

std::string summary_cards(const json& report) {
  const json& summary = member(report, "summary");
  const json& inventory = member(report, "inventory");
  std::string out = "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">\n";

  const auto calls = count_of(summary, "calls");
  const auto failed = count_of(summary, "failed_calls");
  out += count_card(summary, "calls", "summary-calls", "LLM calls",
                    failed ? plural(*failed, "failed", "failed") : "");
  const auto unsanctioned = count_of(summary, "unsanctioned_calls");
  std::string share;
  if (unsanctioned && calls && *calls > 0) {
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.0f%% of calls",
                  100.0 * static_cast<double>(*unsanctioned) / static_cast<double>(*calls));
    share = pct;
  }
  out += count_card(summary, "unsanctioned_calls", "summary-unsanctioned-calls",
                    "Unsanctioned calls", share, "alert");
  const auto sent = count_of(summary, "request_bytes");
  const auto received = count_of(summary, "response_bytes");
  out += count_card(summary, "input_tokens", "summary-input-tokens", "Tokens in",
                    sent ? human_bytes(*sent) + " sent" : "");
  out += count_card(summary, "output_tokens", "summary-output-tokens", "Tokens out",
                    received ? human_bytes(*received) + " received" : "");
  const auto cost = number_of(summary, "cost_usd");
  out += card("summary-cost", "Estimated cost", cost_text(summary, "cost_usd"),
              cost ? std::optional(member(summary, "cost_usd").dump()) : std::nullopt,
              "from list prices");
  std::string providers;
  for (const json& p : list(summary, "providers")) {
    if (p.is_string())
      providers += (providers.empty() ? "" : ", ") + html_escape(p.get<std::string>());
  }
  if (const auto models = count_of(summary, "models")) {
    providers += (providers.empty() ? "" : " · ") + plural(*models, "model", "models");
  }
  out += count_card(summary, "processes_calling", "summary-processes-calling", "Processes calling",
                    providers);

  // Findings: the total, and one small pill a severity.
  const auto by_severity = severity_counts(member(summary, "findings"));
  uint64_t total = 0;
  std::string pills;
  for (const auto& [severity, n] : by_severity) {
    total += n;
    pills += "<span class=\"pill " + severity_class(severity) + (n == 0 ? " zero" : "") +
             "\" id=\"summary-findings-" + html_escape(severity) + "\" data-value=\"" +
             std::to_string(n) + "\">" + thousands(n) + " " + html_escape(severity) + "</span> ";
  }
  const bool failing = count_of(member(report, "status"), "findings_at_or_above").value_or(0) > 0;
  out += card("summary-findings", "Findings",
              by_severity.empty() ? std::string(kMissing) : thousands(total),
              by_severity.empty() ? std::nullopt : std::optional(std::to_string(total)), pills,
              failing ? "alert" : "");

  out += count_card(summary, "tls_processes_visible", "summary-tls-visible",
                    "TLS processes visible", "llmtap sees their calls");
  std::string hidden_stacks;
  for (const json& stack : list(inventory, "tls_stacks")) {
    if (member(stack, "visible") != json(false)) continue;
    hidden_stacks += (hidden_stacks.empty() ? "" : ", ") + text_of(stack, "stack");
    if (const auto n = count_of(stack, "processes")) hidden_stacks += " (" + thousands(*n) + ")";
  }
  out += count_card(summary, "tls_processes_not_visible", "summary-tls-not-visible",
                    "TLS processes not visible",
                    hidden_stacks.empty() ? "calls llmtap cannot see" : hidden_stacks, "warn");
  out += count_card(summary, "processes_with_api_keys", "summary-api-keys",
                    "Processes with API keys", "named, never shown", "warn");
  uint64_t served_models = 0;
  for (const json& server : list(inventory, "model_servers")) {
    served_models += list(server, "models").size();
  }
  out += count_card(summary, "model_servers", "summary-model-servers", "Model servers",
                    served_models ? plural(served_models, "model served", "models served") : "");
  uint64_t file_bytes = 0;
  for (const json& file : list(member(inventory, "model_files"), "files")) {
    file_bytes += count_of(file, "size").value_or(0);
  }
  out += count_card(summary, "model_files", "summary-model-files", "Model files",
                    file_bytes ? human_bytes(file_bytes) + " on disk" : "");
  return out + "</div></section>\n";
}

// The timeline's series, most calls first; past eight, the rest are one "other" series.
struct Timeline {
  double bucket_seconds = 0;
  std::vector<ChartSeries> calls;
  std::vector<ChartSeries> tokens;
};

Timeline timeline_of(const json& report) {
  constexpr size_t kMaxBuckets = 1440;
  constexpr size_t kMaxSeries = 8;
  const json& timeline = member(report, "timeline");
  Timeline t;
  t.bucket_seconds = number_of(timeline, "bucket_seconds").value_or(0);
  if (!(t.bucket_seconds > 0 && t.bucket_seconds <= 1e9)) t.bucket_seconds = 0;
  const json& series = list(timeline, "series");
  size_t buckets = count_of(timeline, "buckets").value_or(0);
  if (buckets == 0) {
    for (const json& s : series) buckets = std::max(buckets, list(s, "calls").size());
  }
  buckets = std::min(buckets, kMaxBuckets);
  const auto values = [buckets](const json& s, const char* key) {
    std::vector<double> v(buckets, 0);
    const json& a = list(s, key);
    for (size_t i = 0; i < buckets && i < a.size(); ++i) {
      if (a[i].is_number()) v[i] = std::max(0.0, a[i].get<double>());
    }
    return v;
  };
  struct Row {
    std::string label;
    std::vector<double> calls, tokens;
    double total = 0;
  };
  std::vector<Row> rows;
  for (const json& s : series) {
    const auto provider = string_of(s, "provider");
    const auto model = string_of(s, "model");
    Row r{(provider ? *provider : "?") + " · " + (model ? *model : "(no model)"),
          values(s, "calls"), values(s, "tokens")};
    for (double v : r.calls) r.total += v;
    rows.push_back(std::move(r));
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.total > b.total; });
  const size_t kept = rows.size() > kMaxSeries ? kMaxSeries - 1 : rows.size();
  for (size_t i = 0; i < kept; ++i) {
    const std::string css = "s" + std::to_string(i);
    t.calls.push_back({rows[i].label, css, rows[i].calls});
    t.tokens.push_back({rows[i].label, css, rows[i].tokens});
  }
  if (kept < rows.size()) {
    ChartSeries calls{plural(rows.size() - kept, "other", "others"), "s-other",
                      std::vector<double>(buckets, 0)};
    ChartSeries tokens = calls;
    for (size_t i = kept; i < rows.size(); ++i) {
      for (size_t b = 0; b < buckets; ++b) {
        calls.values[b] += rows[i].calls[b];
        tokens.values[b] += rows[i].tokens[b];
      }
    }
    t.calls.push_back(std::move(calls));
    t.tokens.push_back(std::move(tokens));
  }
  return t;
}

bool any_value(const std::vector<ChartSeries>& series) {
  for (const ChartSeries& s : series) {
    for (double v : s.values) {
      if (v > 0) return true;
    }
  }
  return false;
}

std::string charts(const json& report) {
  const json& summary = member(report, "summary");
  const Timeline t = timeline_of(report);
  const bool no_calls = count_of(summary, "calls").value_or(0) == 0 && !any_value(t.calls);
  const std::string per = t.bucket_seconds > 0
                              ? " <span class=\"muted\">per " + duration_text(t.bucket_seconds) +
                                    ", by provider and model</span>"
                              : " <span class=\"muted\">by provider and model</span>";
  std::string out = "<section id=\"charts\"><h2>Over the window</h2><div class=\"charts\">\n";

  out += "<figure class=\"panel\"><figcaption>Calls" + per + "</figcaption>\n";
  if (no_calls) {
    out += empty_note("chart-calls-empty", "No calls in the window.");
  } else if (!any_value(t.calls)) {
    out += empty_note("chart-calls-empty", "The report has no timeline of its calls.");
  } else {
    out += render_stacked_bars({"chart-calls", "LLM calls over the window by provider and model",
                                "calls", t.bucket_seconds, t.calls});
  }
  out += "</figure>\n";

  out += "<figure class=\"panel\"><figcaption>Tokens" + per + "</figcaption>\n";
  if (no_calls) {
    out += empty_note("chart-tokens-empty", "No calls in the window.");
  } else if (!any_value(t.tokens)) {
    out += empty_note("chart-tokens-empty", "No token counts in the window.");
  } else {
    out += render_stacked_bars({"chart-tokens",
                                "Tokens (in and out) over the window by provider and model",
                                "tokens", t.bucket_seconds, t.tokens});
  }
  out += "</figure>\n";

  // Findings by severity: the summary's counts, else the findings' own.
  std::vector<CategoryBar> bars;
  const json& by_severity = member(summary, "findings");
  double total = 0;
  for (const char* s : kSeverities) {
    double n = static_cast<double>(count_of(by_severity, s).value_or(0));
    if (!by_severity.is_object()) {
      for (const json& f : list(report, "findings")) {
        if (string_of(f, "severity") == s)
          n += static_cast<double>(count_of(f, "count").value_or(1));
      }
    }
    bars.push_back({s, severity_class(s), n});
    total += n;
  }
  out +=
      "<figure class=\"panel wide\"><figcaption>Findings <span class=\"muted\">by "
      "severity</span></figcaption>\n";
  out += total > 0
             ? render_horizontal_bars("chart-findings", "Findings by severity", "findings", bars)
             : empty_note("chart-findings-empty", "No findings in the window.");
  out += "</figure>\n";
  return out + "</div></section>\n";
}

std::string calls_table(const json& report) {
  const json& calls = list(report, "calls");
  std::string out = "<section id=\"calls\"><h2>Calls</h2>\n";
  if (calls.empty())
    return out + empty_note("table-calls-empty", "No calls in the window.") + "</section>\n";
  out +=
      "<p class=\"lead\">One row per process, provider, model and server. A call is "
      "<em>unsanctioned</em> when a model rule of the policy made a finding about it.</p>\n";
  out += table_start("table-calls",
                     {"Process", "Workload", "Provider · model · server", "#Calls", "#Tokens in",
                      "#Tokens out", "#Cost", "#Sent / received", "Sanctioned", "Findings"});
  for (const json& row : calls) {
    const json& sanctioned = member(row, "sanctioned");
    out += sanctioned == json(false) ? "<tr class=\"unsanctioned\">" : "<tr>";
    out += "<td class=\"col-process\">" + process_cell(member(row, "process"));
    if (string_of(row, "role") == "server") {
      out += " <span class=\"tag\" title=\"this process answered the calls\">server</span>";
    }
    out += "</td><td class=\"col-workload\">" + workload_cell(member(row, "workload")) + "</td>";
    out += "<td class=\"col-model\"><span class=\"provider\">" + text_of(row, "provider") +
           "</span> · <span class=\"model mono\">" + text_of(row, "model") + "</span>";
    if (const auto server = string_of(row, "server"); server && !server->empty()) {
      out += "<div class=\"sub mono path\">" + html_escape(*server) + "</div>";
    }
    out += "</td>";
    out += "<td class=\"num\">" + count_text(row, "calls");
    if (const auto failed = count_of(row, "failed_calls"); failed && *failed > 0) {
      out += "<div class=\"sub\">" + thousands(*failed) + " failed</div>";
    }
    out += "</td><td class=\"num\">" + count_text(row, "input_tokens") + "</td>";
    out += "<td class=\"num\">" + count_text(row, "output_tokens") + "</td>";
    out += "<td class=\"num\">" + cost_text(row, "cost_usd") + "</td>";
    const auto sent = count_of(row, "request_bytes");
    const auto received = count_of(row, "response_bytes");
    out += "<td class=\"num\">" + (sent ? human_bytes(*sent) : kMissing) + " / " +
           (received ? human_bytes(*received) : kMissing) + "</td>";
    out += "<td>" +
           std::string(sanctioned == json(true)    ? "<span class=\"badge ok\">sanctioned</span>"
                       : sanctioned == json(false) ? "<span class=\"badge bad\">unsanctioned</span>"
                                                   : kMissing) +
           "</td><td>";
    for (const auto& [severity, n] : severity_counts(member(row, "findings"))) {
      if (n > 0) out += severity_pill(severity, n) + " ";
    }
    std::string rules;
    for (const json& rule : list(row, "rules")) {
      if (rule.is_string())
        rules += (rules.empty() ? "" : ", ") + html_escape(rule.get<std::string>());
    }
    if (!rules.empty()) out += "<div class=\"sub mono\">" + rules + "</div>";
    out += "</td></tr>\n";
  }
  out += "</tbody>";
  const json& summary = member(report, "summary");
  if (summary.is_object()) {
    out += "<tfoot><tr><td colspan=\"3\">All calls</td><td class=\"num\">" +
           count_text(summary, "calls") + "</td><td class=\"num\">" +
           count_text(summary, "input_tokens") + "</td><td class=\"num\">" +
           count_text(summary, "output_tokens") + "</td><td class=\"num\">" +
           cost_text(summary, "cost_usd") + "</td><td colspan=\"3\"></td></tr></tfoot>";
  }
  return out + "</table></div></section>\n";
}

std::string findings_table(const json& report) {
  const json& findings = list(report, "findings");
  std::string out = "<section id=\"findings\"><h2>Findings</h2>\n";
  if (findings.empty())
    return out + empty_note("table-findings-empty", "No findings.") + "</section>\n";
  out += table_start("table-findings", {"Severity", "Rule", "Kind", "#Count", "Process", "Workload",
                                        "Provider · model", "Seen (UTC)", "Action"});
  for (const json& f : findings) {
    const auto severity = string_of(f, "severity");
    out += "<tr><td>" + (severity ? severity_pill(*severity) : std::string(kMissing)) + "</td>";
    out += "<td><span class=\"mono\">" + text_of(f, "rule_id") + "</span>";
    if (const auto title = string_of(f, "title"); title && !title->empty()) {
      out += "<div class=\"sub\">" + html_escape(*title) + "</div>";
    }
    out += "</td><td>" + text_of(f, "kind") + "</td>";
    out += "<td class=\"num\">" + count_text(f, "count") + "</td>";
    out += "<td class=\"col-process\">" + process_cell(member(f, "process"), false) + "</td>";
    out += "<td class=\"col-workload\">" + workload_cell(member(f, "workload")) + "</td>";
    out += "<td>" + text_of(f, "provider") + " · <span class=\"mono\">" + text_of(f, "model") +
           "</span></td>";
    const auto first = string_of(f, "first_seen");
    const auto last = string_of(f, "last_seen");
    const auto a = utc_stamp(first);
    const auto b = utc_stamp(last);
    std::string seen = a ? a->second : first ? html_escape(*first) : kMissing;
    if (last && last != first) seen += " – " + (b ? b->second : html_escape(*last));
    out += "<td class=\"nowrap\">" + seen + "</td>";
    out += "<td>" + text_of(f, "action") + "</td></tr>\n";
  }
  return out + "</tbody></table></div></section>\n";
}

std::string visibility_badge(const json& visible) {
  return visible == json(true)    ? "<span class=\"badge ok\">visible</span>"
         : visible == json(false) ? "<span class=\"badge warn\">not visible</span>"
                                  : kMissing;
}

// Processes using TLS: the stacks llmtap sees into and those it does not.
std::string tls_section(const json& inventory, const json& summary) {
  std::string out = "<h3 id=\"inventory-tls\">Processes using TLS</h3>\n";
  out += "<p class=\"lead\">llmtap sees a process's LLM calls through the TLS library it uses. ";
  const auto visible = count_of(summary, "tls_processes_visible");
  const auto hidden = count_of(summary, "tls_processes_not_visible");
  if (visible && hidden && *hidden > 0) {
    out += plural(*visible, "process is", "processes are") + " visible; " +
           plural(*hidden, "process is", "processes are") +
           " not (their calls are missing from this report).";
  } else if (visible && *visible > 0) {
    out += *visible == 1 ? std::string("The one process found is visible.")
                         : "All " + thousands(*visible) + " processes found are visible.";
  }
  out += "</p>\n";
  const json& stacks = list(inventory, "tls_stacks");
  if (!stacks.empty()) {
    out += table_start("table-tls-stacks", {"TLS stack", "Visibility", "#Processes"});
    for (const json& s : stacks) {
      out += "<tr><td class=\"mono\">" + text_of(s, "stack") + "</td><td>" +
             visibility_badge(member(s, "visible")) + "</td><td class=\"num\">" +
             count_text(s, "processes") + "</td></tr>\n";
    }
    out += "</tbody></table></div>\n";
  }
  const json& tls = list(inventory, "tls_processes");
  if (tls.empty()) {
    out += empty_note("table-tls-processes-empty", "No process using a TLS library was found.");
  } else {
    out += table_start("table-tls-processes", {"Process", "TLS stacks", "Workload"});
    for (const json& p : tls) {
      bool any_hidden = false;
      std::string cell;
      for (const json& s : list(p, "stacks")) {
        any_hidden |= member(s, "visible") == json(false);
        cell += "<div><span class=\"mono\">" + text_of(s, "stack") + "</span> " +
                visibility_badge(member(s, "visible"));
        if (const auto file = string_of(s, "file"); file && !file->empty()) {
          cell += "<div class=\"sub mono path\">" + html_escape(*file) + "</div>";
        }
        cell += "</div>";
      }
      out += std::string(any_hidden ? "<tr class=\"not-visible\">" : "<tr>") +
             "<td class=\"col-process\">" + process_cell(p) + "</td><td>" +
             (cell.empty() ? kMissing : cell) + "</td><td class=\"col-workload\">" +
             workload_cell(member(p, "workload")) + "</td></tr>\n";
    }
    out += "</tbody></table></div>\n";
  }
  return out;
}

std::string api_keys_section(const json& inventory) {
  std::string out =
      "<h3 id=\"inventory-api-keys\">Provider API keys in process environments</h3>\n";
  const json& keys = list(inventory, "api_keys");
  if (keys.empty()) {
    out += empty_note("table-api-keys-empty", "No process holds a provider API key.");
  } else {
    out +=
        "<p class=\"lead\">The variable and provider only: a key's value is never in the "
        "report. Its fingerprint (12 hex digits of its SHA-256) matches the one calls "
        "carry.</p>\n";
    out += table_start("table-api-keys",
                       {"Process", "Variable", "Provider", "Fingerprint", "Workload"});
    for (const json& k : keys) {
      out += "<tr><td class=\"col-process\">" + process_cell(k) + "</td><td class=\"mono\">" +
             text_of(k, "variable") + "</td><td>" + text_of(k, "provider") +
             "</td><td class=\"mono\">" + text_of(k, "fingerprint") +
             "</td><td class=\"col-workload\">" + workload_cell(member(k, "workload")) +
             "</td></tr>\n";
    }
    out += "</tbody></table></div>\n";
  }
  return out;
}

std::string model_servers_section(const json& inventory) {
  std::string out = "<h3 id=\"inventory-model-servers\">Local model servers</h3>\n";
  const json& servers = list(inventory, "model_servers");
  if (servers.empty()) {
    out += empty_note("table-model-servers-empty", "No local model server answered.");
  } else {
    out += table_start("table-model-servers", {"#Port", "Kind", "Process", "Models", "Workload"});
    for (const json& s : servers) {
      std::string models;
      for (const json& m : list(s, "models")) {
        if (m.is_string()) {
          models += "<span class=\"chip mono\">" + html_escape(m.get<std::string>()) + "</span> ";
        }
      }
      out += "<tr><td class=\"num mono\">" + text_of(s, "port") + "</td><td>" + text_of(s, "kind") +
             "</td><td class=\"col-process\">" + process_cell(s, false) + "</td><td>" +
             (models.empty() ? kMissing : models) + "</td><td class=\"col-workload\">" +
             workload_cell(member(s, "workload")) + "</td></tr>\n";
    }
    out += "</tbody></table></div>\n";
  }
  return out;
}

std::string model_files_section(const json& inventory) {
  std::string out = "<h3 id=\"inventory-model-files\">Model files on disk</h3>\n";
  const json& model_files = member(inventory, "model_files");
  std::string roots;
  for (const json& r : list(model_files, "roots")) {
    if (r.is_string()) roots += (roots.empty() ? "" : ", ") + html_escape(r.get<std::string>());
  }
  std::string searched;
  if (!roots.empty()) searched = "Searched <span class=\"mono\">" + roots + "</span>";
  if (const auto examined = count_of(model_files, "entries_examined")) {
    searched += (roots.empty() ? "" : ": ") + plural(*examined, "entry", "entries") + " examined";
  }
  if (!searched.empty()) out += "<p class=\"lead\">" + searched + ".</p>\n";
  if (member(model_files, "cut_short") == json(true)) {
    out +=
        "<p class=\"warning\" id=\"model-files-cut-short\">The search stopped at its bound: "
        "there may be more model files.</p>\n";
  }
  const json& files = list(model_files, "files");
  if (files.empty()) {
    out += empty_note("table-model-files-empty", "No model file was found.");
  } else {
    out += table_start("table-model-files", {"Path", "#Size", "Format", "Model", "Architecture"});
    for (const json& f : files) {
      const auto size = count_of(f, "size");
      out += "<tr><td class=\"mono path\">" + text_of(f, "path") + "</td><td class=\"num\"";
      if (size) out += " data-value=\"" + std::to_string(*size) + "\"";
      out += ">" + (size ? human_bytes(*size) : kMissing) + "</td><td>" + text_of(f, "format") +
             "</td><td>" + text_of(f, "name") + "</td><td>" + text_of(f, "architecture") +
             "</td></tr>\n";
    }
    out += "</tbody></table></div>\n";
  }
  return out;
}

std::string inventory_sections(const json& report) {
  const json& inventory = member(report, "inventory");
  return "<section id=\"inventory\"><h2>Inventory</h2>\n" +
         tls_section(inventory, member(report, "summary")) + api_keys_section(inventory) +
         model_servers_section(inventory) + model_files_section(inventory) + "</section>\n";
}

// A restrained palette: greys, one blue accent, severity colours; series colours are
// colour-blind-friendly (Tableau 10 without its red, which means "high" here).
constexpr const char* kStyle = R"css(
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--soft:#eaeef2;--bg:#f6f8fa;--panel:#fff;
--critical:#7a1020;--high:#cf222e;--medium:#d4760a;--low:#3b6fd1;--info:#6e7781;
--ok:#1a7f37;--okbg:#dafbe1;--bad:#a40e26;--badbg:#ffebe9;--warn:#7d4e00;--warnbg:#fff3d6}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;color:var(--fg);background:var(--bg);font:14px/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif}
.wrap{max-width:1240px;margin:0 auto;padding:0 24px}
.mono,code{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"DejaVu Sans Mono",
"Liberation Mono",monospace;font-size:.92em}
.muted{color:var(--muted)}
.path{overflow-wrap:anywhere}
.nowrap{white-space:nowrap}
header.page{background:var(--panel);border-bottom:1px solid var(--line);padding:22px 0 18px}
.brand{font-size:12px;font-weight:600;letter-spacing:.08em;text-transform:uppercase;
color:var(--muted)}
h1{font-size:28px;font-weight:650;margin:2px 0 12px;overflow-wrap:anywhere}
h2{font-size:18px;font-weight:650;margin:32px 0 12px}
h3{font-size:15px;font-weight:650;margin:24px 0 8px}
.verdict{display:inline-flex;align-items:center;gap:8px;padding:6px 14px;border-radius:6px;
font-weight:600;border:1px solid transparent}
.verdict .dot{width:9px;height:9px;border-radius:50%;background:currentColor}
.verdict .exit{font-weight:400;opacity:.75;font-size:12px}
.verdict.ok{color:var(--ok);background:var(--okbg);border-color:#aceebb}
.verdict.fail{color:var(--bad);background:var(--badbg);border-color:#ffcecb}
.verdict.error,.verdict.unknown{color:var(--warn);background:var(--warnbg);border-color:#f0d9a0}
.error-box{margin-top:10px;padding:8px 12px;border-left:3px solid var(--high);background:var(--badbg)}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:14px 0 0}
.meta dt{color:var(--muted)}
.meta dd{margin:0;overflow-wrap:anywhere}
.notes{margin:12px 0 0;padding-left:18px;color:var(--warn)}
.lead{color:var(--muted);margin:0 0 10px}
.warning{color:var(--warn);background:var(--warnbg);padding:6px 10px;border-radius:6px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(185px,1fr));gap:12px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card .label{font-size:12px;color:var(--muted);font-weight:600}
.card .value{font-size:26px;font-weight:650;line-height:1.25;font-variant-numeric:tabular-nums}
.card .sub{font-size:12px;color:var(--muted);margin-top:2px}
.card.alert{border-color:#ffcecb;box-shadow:inset 3px 0 0 var(--high)}
.card.alert .value{color:var(--high)}
.card.warn{box-shadow:inset 3px 0 0 var(--medium)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:14px}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:14px 16px;
margin:0;min-width:0}
.panel.wide{grid-column:1/-1}
figcaption{font-weight:600;margin-bottom:8px}
svg.chart{display:block;width:100%;height:auto;overflow:visible}
.chart text{font-size:11px;fill:var(--muted);font-variant-numeric:tabular-nums}
.chart .total{fill:var(--fg);font-weight:600;font-size:10px}
.chart .category{font-size:13px;fill:var(--fg);font-weight:600}
.chart.horizontal .value{font-size:13px;fill:var(--fg)}
.chart .zero{fill:var(--muted)}
.chart .grid{stroke:var(--soft)}
.chart .axis{stroke:#8c959f}
.chart .bar:hover{opacity:.78}
.s0{fill:#4e79a7;background:#4e79a7}.s1{fill:#f28e2b;background:#f28e2b}
.s2{fill:#59a14f;background:#59a14f}.s3{fill:#b07aa1;background:#b07aa1}
.s4{fill:#76b7b2;background:#76b7b2}.s5{fill:#edc948;background:#edc948}
.s6{fill:#9c755f;background:#9c755f}.s7{fill:#ff9da7;background:#ff9da7}
.s-other{fill:#bab0ac;background:#bab0ac}
.legend{list-style:none;margin:10px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:4px 18px;
font-size:12px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.empty{margin:0;padding:28px 12px;text-align:center;color:var(--muted);background:var(--panel);
border:1px dashed var(--line);border-radius:8px}
.panel .empty{border:0;padding:48px 12px}
.table-wrap{overflow-x:auto;background:var(--panel);border:1px solid var(--line);border-radius:8px}
.table-wrap+.table-wrap,.table-wrap+.empty{margin-top:12px}
table{width:100%;border-collapse:collapse;font-size:13px}
th,td{padding:8px 10px;text-align:left;vertical-align:top;border-bottom:1px solid var(--soft)}
th{font-size:12px;font-weight:600;color:var(--muted);background:#f6f8fa;white-space:nowrap}
tbody tr:last-child td{border-bottom:0}
tfoot td{font-weight:600;border-top:1px solid var(--line);border-bottom:0;background:#f6f8fa}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td .sub{font-size:12px;color:var(--muted)}
tr.unsanctioned td:first-child{box-shadow:inset 3px 0 0 var(--high)}
tr.unsanctioned{background:#fffafa}
tr.not-visible td:first-child{box-shadow:inset 3px 0 0 var(--medium)}
.proc{font-weight:600;overflow-wrap:anywhere}
.col-process{min-width:12em}
.col-workload,.col-model{min-width:11em}
.pill,.badge,.tag,.chip{display:inline-block;padding:0 8px;border-radius:999px;font-size:12px;
font-weight:600;line-height:20px;white-space:nowrap}
.pill.zero{opacity:.35}
.sev-critical{background:var(--critical);fill:var(--critical);color:#fff}
.sev-high{background:var(--high);fill:var(--high);color:#fff}
.sev-medium{background:var(--medium);fill:var(--medium);color:#fff}
.sev-low{background:var(--low);fill:var(--low);color:#fff}
.sev-info,.sev-unknown{background:var(--info);fill:var(--info);color:#fff}
.badge.ok{color:var(--ok);background:var(--okbg)}
.badge.bad{color:var(--bad);background:var(--badbg)}
.badge.warn{color:var(--warn);background:var(--warnbg)}
.tag{color:var(--muted);background:var(--soft);font-weight:500}
.chip{color:var(--fg);background:var(--soft);font-weight:500;margin:1px 0}
footer{color:var(--muted);font-size:12px;padding:28px 0 36px}
@media (max-width:640px){.wrap{padding:0 12px}.charts{grid-template-columns:1fr}
.card .value{font-size:22px}}
@media print{body{background:#fff;font-size:11px}header.page{border:0;padding-top:0}
.wrap{max-width:none;padding:0}.charts{grid-template-columns:1fr 1fr}
.card,.panel,tr{break-inside:avoid}h2,h3{break-after:avoid}
.table-wrap{overflow:visible;border-color:var(--soft)}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
)css";

}  // namespace

std::string html_escape(std::string_view text) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const char* entity = c == '&'    ? "&amp;"
                         : c == '<'  ? "&lt;"
                         : c == '>'  ? "&gt;"
                         : c == '"'  ? "&quot;"
                         : c == '\'' ? "&#39;"
                                     : nullptr;
    const size_t n = common::utf8_sequence_length(text, i);
    if (entity != nullptr) {
      out += entity;
    } else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f || n == 0) {
      out += kReplacement;  // no control character or broken UTF-8 reaches the page
    } else {
      out.append(text.substr(i, n));
    }
    i += std::max<size_t>(n, 1);
  }
  return out;
}

std::string render_audit_html(const nlohmann::json& report) {
  const json& host = member(report, "host");
  const auto name = string_of(host, "name");
  const auto started = string_of(member(report, "window"), "started");
  std::string out;
  out.reserve(64 * 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  // Nothing loads from anywhere and no script runs, whatever the report holds.
  out +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"llmtap " + text_of(host, "llmtap_version") + "\">\n";
  out += "<title>llmtap audit · " + (name ? html_escape(*name) : std::string("unknown host")) +
         (started ? " · " + html_escape(*started) : std::string()) + "</title>\n";
  out += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  out += page_header(report);
  out += "<main class=\"wrap\">\n";
  out += summary_cards(report);
  out += charts(report);
  out += calls_table(report);
  out += findings_table(report);
  out += inventory_sections(report);
  out += "</main>\n<footer><div class=\"wrap\">Written by llmtap " +
         text_of(host, "llmtap_version") + " from its audit report (schema " +
         text_of(report, "llmtap_audit") +
         "). Costs are estimates from list prices, never a bill.</div></footer>\n";
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace llmtap::audit
