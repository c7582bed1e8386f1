#include "audit/audit_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace llmtap::audit {
namespace {

using nlohmann::json;

// What both forms show: titled sections of lines and tables.
struct Table {
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
};

struct Section {
  std::string title;
  std::vector<std::string> lines;  // before the table
  Table table;
  std::string empty;  // said instead of an empty table
};

std::string text(const json& j, const char* key, const std::string& otherwise = "") {
  if (!j.is_object()) return otherwise;
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return otherwise;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
  return it->dump();
}

uint64_t count(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  const auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>()
         : it != j.end() && it->is_number_integer() && it->get<int64_t>() > 0
             ? static_cast<uint64_t>(it->get<int64_t>())
             : 0;
}

const json& array(const json& j, const char* key) {
  static const json kEmpty = json::array();
  if (!j.is_object()) return kEmpty;
  const auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : kEmpty;
}

const json& object(const json& j, const char* key) {
  static const json kEmpty = json::object();
  if (!j.is_object()) return kEmpty;
  const auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

std::string cost_of(const json& j, const char* key) {
  const auto it = j.is_object() ? j.find(key) : j.end();
  if (it == j.end() || !it->is_number()) return "-";
  return dollars(it->get<double>());
}

// "comm[pid]".
std::string who(const json& process) {
  return text(process, "comm", "?") + "[" + std::to_string(count(process, "pid")) + "]";
}

// "ns/pod (container)", the container's short id, or "-" for a host process.
std::string where(const json& workload) {
  if (!workload.is_object()) return "-";
  const std::string pod = text(workload, "pod_name");
  const std::string container = text(workload, "container_name");
  if (!pod.empty()) {
    return text(workload, "pod_namespace") + "/" + pod +
           (container.empty() ? "" : " (" + container + ")");
  }
  const std::string id = text(workload, "container_id");
  return id.empty() ? "-" : "container " + id.substr(0, 12);
}

std::string severities(const json& counts) {
  std::string out;
  if (!counts.is_object()) return out;
  for (const auto& [severity, n] : counts.items()) {
    if (!n.is_number() || n.get<uint64_t>() == 0) continue;
    if (!out.empty()) out += " ";
    out += severity + ":" + std::to_string(n.get<uint64_t>());
  }
  return out;
}

std::string joined(const json& values, const char* separator = ", ") {
  std::string out;
  for (const json& v : values) {
    if (!v.is_string()) continue;
    if (!out.empty()) out += separator;
    out += v.get<std::string>();
  }
  return out;
}

std::vector<Section> sections_of(const json& report) {
  std::vector<Section> out;
  const json& host = object(report, "host");
  const json& window = object(report, "window");
  const json& status = object(report, "status");
  const json& summary = object(report, "summary");
  const json& inventory = object(report, "inventory");

  Section head;
  head.title = "llmtap audit of " + text(host, "name", "this host");
  head.lines.push_back("window: " + text(window, "started") + " to " + text(window, "ended") +
                       " (" + text(window, "duration_seconds", "0") + " s); policy: " +
                       joined(array(object(report, "policy"), "sources")));
  const int exit_code = static_cast<int>(count(status, "exit_code"));
  if (!text(status, "error").empty()) {
    head.lines.push_back("verdict: could not run: " + text(status, "error") + " (exit 2)");
  } else {
    const uint64_t failing = count(status, "findings_at_or_above");
    head.lines.push_back(
        "verdict: " +
        (failing == 0 ? std::string("clean: no finding at or above ")
                      : thousands(failing) + " finding" + (failing == 1 ? "" : "s") +
                            " at or above ") +
        text(status, "fail_on", "high") + " (exit " + std::to_string(exit_code) + ")");
  }
  for (const json& note : array(status, "notes")) {
    if (note.is_string()) head.lines.push_back("note: " + note.get<std::string>());
  }
  out.push_back(std::move(head));

  Section sum;
  sum.title = "Summary";
  sum.lines.push_back(
      thousands(count(summary, "calls")) + " LLM calls (" +
      thousands(count(summary, "unsanctioned_calls")) + " unsanctioned, " +
      thousands(count(summary, "failed_calls")) + " failed) from " +
      thousands(count(summary, "processes_calling")) + " processes; providers: " +
      (array(summary, "providers").empty() ? "none" : joined(array(summary, "providers"))) +
      "; models: " + thousands(count(summary, "models")));
  sum.lines.push_back("tokens: " + thousands(count(summary, "input_tokens")) + " in, " +
                      thousands(count(summary, "output_tokens")) +
                      " out; estimated cost: " + cost_of(summary, "cost_usd") + "; bytes: " +
                      human_bytes(count(summary, "request_bytes")) + " sent, " +
                      human_bytes(count(summary, "response_bytes")) + " received");
  const json& by_severity = object(summary, "findings");
  std::string findings_line = "findings:";
  for (const char* s : {"critical", "high", "medium", "low", "info"}) {
    findings_line += std::string(" ") + s + " " + thousands(count(by_severity, s));
  }
  sum.lines.push_back(findings_line);
  sum.lines.push_back("inventory: " + thousands(count(summary, "tls_processes_visible")) +
                      " TLS processes llmtap sees into, " +
                      thousands(count(summary, "tls_processes_not_visible")) +
                      " it cannot; provider API keys in " +
                      thousands(count(summary, "processes_with_api_keys")) + " processes; " +
                      thousands(count(summary, "model_servers")) + " local model servers; " +
                      thousands(count(summary, "model_files")) + " model files");
  out.push_back(std::move(sum));

  Section calls;
  calls.title = "LLM calls in the window";
  calls.empty = "no LLM call in the window";
  calls.table.headers = {"process", "pod / container", "role", "provider", "model", "server",
                         "calls", "tokens in/out", "cost", "sanctioned", "findings"};
  for (const json& c : array(report, "calls")) {
    const std::string rules = joined(array(c, "rules"));
    calls.table.rows.push_back(
        {who(object(c, "process")), where(c.value("workload", json())), text(c, "role"),
         text(c, "provider"), text(c, "model", "?"), text(c, "server"),
         thousands(count(c, "calls")),
         thousands(count(c, "input_tokens")) + "/" + thousands(count(c, "output_tokens")),
         cost_of(c, "cost_usd"), text(c, "sanctioned"),
         severities(object(c, "findings")) + (rules.empty() ? "" : " (" + rules + ")")});
  }
  out.push_back(std::move(calls));

  Section findings;
  findings.title = "Findings";
  findings.empty = "no findings";
  findings.table.headers = {"severity", "rule", "count", "process", "pod / container",
                            "model", "action", "title"};
  for (const json& f : array(report, "findings")) {
    findings.table.rows.push_back({text(f, "severity"), text(f, "rule_id"),
                                   thousands(count(f, "count")), who(object(f, "process")),
                                   where(f.value("workload", json())),
                                   text(f, "provider") + "/" + text(f, "model", "?"),
                                   text(f, "action"), text(f, "title")});
  }
  out.push_back(std::move(findings));

  Section stacks;
  stacks.title = "TLS stacks";
  stacks.empty = "no process uses a TLS library";
  for (const json& s : array(inventory, "tls_stacks")) {
    stacks.lines.push_back(text(s, "stack") + ": " + thousands(count(s, "processes")) +
                           " processes, " +
                           (s.value("visible", false) ? "visible to llmtap"
                                                      : "NOT visible (llmtap cannot read its TLS)"));
  }
  stacks.table.headers = {"process", "pod / container", "stack", "executable"};
  for (const json& p : array(inventory, "tls_processes")) {
    for (const json& s : array(p, "stacks")) {
      if (s.value("visible", true)) continue;  // the ones llmtap cannot see, by name
      stacks.table.rows.push_back({who(p), where(p.value("workload", json())),
                                   text(s, "stack"), text(p, "exe")});
    }
  }
  if (stacks.table.rows.empty() && !stacks.lines.empty()) stacks.empty = "";
  out.push_back(std::move(stacks));

  Section keys;
  keys.title = "Provider API keys in process environments (fingerprints, never values)";
  keys.empty = "none";
  keys.table.headers = {"process", "pod / container", "variable", "provider", "fingerprint",
                        "executable"};
  for (const json& k : array(inventory, "api_keys")) {
    keys.table.rows.push_back({who(k), where(k.value("workload", json())), text(k, "variable"),
                               text(k, "provider"), text(k, "fingerprint"), text(k, "exe")});
  }
  out.push_back(std::move(keys));

  Section servers;
  servers.title = "Local model servers";
  servers.empty = "none answered";
  servers.table.headers = {"port", "kind", "process", "pod / container", "models"};
  for (const json& s : array(inventory, "model_servers")) {
    servers.table.rows.push_back({std::to_string(count(s, "port")), text(s, "kind"),
                                  count(s, "pid") != 0 ? who(s) : "?",
                                  where(s.value("workload", json())),
                                  joined(array(s, "models"))});
  }
  out.push_back(std::move(servers));

  Section files;
  const json& model_files = object(inventory, "model_files");
  files.title = "Model files";
  files.lines.push_back("under " + joined(array(model_files, "roots")) + " (" +
                        thousands(count(model_files, "entries_examined")) +
                        " entries examined" +
                        (model_files.value("cut_short", false) ? ", cut short: there may be more"
                                                               : "") +
                        ")");
  files.empty = "none found";
  files.table.headers = {"size", "format", "model", "path"};
  for (const json& f : array(model_files, "files")) {
    std::string model = text(f, "name");
    if (!text(f, "architecture").empty()) model += " (" + text(f, "architecture") + ")";
    files.table.rows.push_back(
        {human_bytes(count(f, "size")), text(f, "format"), model, text(f, "path")});
  }
  out.push_back(std::move(files));
  return out;
}

// Host strings on a terminal: no control characters (an escape sequence in a process name
// must not drive the reader's terminal), cut to a column width.
std::string terminal_safe(const std::string& s, size_t width) {
  std::string out;
  for (unsigned char c : s) out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  if (out.size() > width) out = out.substr(0, width - 1) + "~";
  return out;
}

std::string markdown_safe(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '\\' || c == '`' || c == '*' || c == '_' || c == '<' || c == '>' ||
        c == '[' || c == ']') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string thousands(uint64_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return digits;
}

std::string dollars(double usd) {
  char text[64];
  if (usd == 0) return "$0";
  if (usd >= 100) {
    std::snprintf(text, sizeof text, "$%.0f", usd);
  } else if (usd >= 0.01) {
    std::snprintf(text, sizeof text, "$%.2f", usd);
  } else {
    std::snprintf(text, sizeof text, "$%.4g", usd);
  }
  return text;
}

std::string human_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(text, sizeof text, value < 10 ? "%.1f %s" : "%.0f %s", value, kUnits[unit]);
  }
  return text;
}

std::string render_audit_table(const json& report) {
  constexpr size_t kMaxColumn = 48;
  std::string out;
  for (const Section& s : sections_of(report)) {
    out += s.title + "\n";
    for (const std::string& line : s.lines) out += "  " + terminal_safe(line, 400) + "\n";
    if (!s.table.headers.empty() && s.table.rows.empty()) {
      if (!s.empty.empty()) out += "  (" + s.empty + ")\n";
    } else if (!s.table.headers.empty()) {
      std::vector<size_t> widths(s.table.headers.size());
      std::vector<std::vector<std::string>> cells;
      cells.push_back({});
      for (const std::string& h : s.table.headers) {
        std::string upper = h;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        cells.back().push_back(upper);
      }
      for (const auto& row : s.table.rows) {
        cells.push_back({});
        for (const std::string& cell : row) cells.back().push_back(terminal_safe(cell, kMaxColumn));
      }
      for (const auto& row : cells) {
        for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
          widths[i] = std::max(widths[i], row[i].size());
        }
      }
      for (const auto& row : cells) {
        std::string line = " ";
        for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
          line += " " + row[i];
          if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 1, ' ');
        }
        out += line + "\n";
      }
    }
    out += "\n";
  }
  return out;
}

std::string render_audit_markdown(const json& report) {
  std::string out;
  bool first = true;
  for (const Section& s : sections_of(report)) {
    out += (first ? "# " : "## ") + markdown_safe(s.title) + "\n\n";
    first = false;
    for (const std::string& line : s.lines) out += "- " + markdown_safe(line) + "\n";
    if (!s.lines.empty()) out += "\n";
    if (!s.table.headers.empty() && s.table.rows.empty()) {
      if (!s.empty.empty()) out += "_" + markdown_safe(s.empty) + "_\n\n";
      continue;
    }
    if (s.table.headers.empty()) continue;
    out += "|";
    for (const std::string& h : s.table.headers) out += " " + markdown_safe(h) + " |";
    out += "\n|";
    for (size_t i = 0; i < s.table.headers.size(); ++i) out += " --- |";
    out += "\n";
    for (const auto& row : s.table.rows) {
      out += "|";
      for (const std::string& cell : row) out += " " + markdown_safe(cell) + " |";
      out += "\n";
    }
    out += "\n";
  }
  return out;
}

}  // namespace llmtap::audit
