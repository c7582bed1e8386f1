#include "sink/watch_view.h"

#include <fmt/format.h>

#include <ctime>

#include "sink/terminal_text.h"

namespace llmtap::sink {
namespace {

struct Column {
  std::string_view title;
  size_t width;
  Align align;
};

enum ColumnId : size_t {
  kTime,
  kProcess,
  kProvider,
  kModel,
  kTokensIn,
  kTokensOut,
  kSent,
  kReceived,
  kLatency,
  kTtfb,
  kStream,
  kStatus,
  kVerdict,
  kColumnCount
};

constexpr Column kColumns[kColumnCount] = {
    {"TIME", 12, Align::kLeft},  {"PROCESS", 18, Align::kLeft}, {"PROVIDER", 10, Align::kLeft},
    {"MODEL", 24, Align::kLeft}, {"IN", 6, Align::kRight},      {"OUT", 6, Align::kRight},
    {"SENT", 6, Align::kRight},  {"RECV", 6, Align::kRight},    {"LAT", 6, Align::kRight},
    {"TTFB", 6, Align::kRight},  {"S", 1, Align::kLeft},        {"STATUS", 20, Align::kLeft},
    {"VERDICT", 7, Align::kLeft}};

// Appends the cell for column `id` (after its separating space), coloured when `color` is set.
void cell(std::string& out, ColumnId id, std::string_view text, std::string_view color = {}) {
  if (id != kTime) out.push_back(' ');
  if (!color.empty()) out.append(color);
  const Column& column = kColumns[id];
  append_cell(out, text, column.width, column.align);
  if (!color.empty()) out.append(Ansi::kReset);
}

std::string local_time(uint64_t realtime_ns) {
  const auto seconds = static_cast<time_t>(realtime_ns / 1'000'000'000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  return fmt::format("{:02}:{:02}:{:02}.{:03}", tm.tm_hour, tm.tm_min, tm.tm_sec,
                     realtime_ns / 1'000'000 % 1000);
}

// "namespace/pod" when the pod is known, else "comm[pid]", cutting the name rather than the pid.
std::string process_text(const llm::ProcessIdentity& process) {
  if (process.workload && process.workload->pod_known()) {
    std::string out;
    append_cell(out, process.workload->pod_namespace + "/" + process.workload->pod_name,
                kColumns[kProcess].width, Align::kLeft);
    out.erase(out.find_last_not_of(' ') + 1);
    return out;
  }
  const std::string pid = fmt::format("[{}]", process.pid);
  const size_t width = kColumns[kProcess].width;
  std::string out;
  if (pid.size() + 1 < width) {
    append_cell(out, process.comm.empty() ? "?" : process.comm, width - pid.size(), Align::kLeft);
    out.erase(out.find_last_not_of(' ') + 1);  // the cell's padding; the column pads again
  }
  return out + pid;
}

std::string tokens_text(const std::optional<uint64_t>& tokens) {
  return tokens ? fmt::format("{}", *tokens) : "-";
}

bool is_error(const llm::LlmCall& call) {
  return call.status == 0 || call.status >= 400 || !call.error_type.empty() ||
         call.response_incomplete;
}

std::string status_text(const llm::LlmCall& call) {
  std::string status = call.status == 0 ? std::string("-") : fmt::format("{}", call.status);
  std::string_view detail = call.error_type;
  if (detail.empty() && call.response_incomplete) detail = "incomplete";
  if (!detail.empty()) status += fmt::format(" {}", detail);
  return status;
}

std::string_view verdict_color(std::string_view verdict) {
  if (verdict == "allow") return {};
  if (verdict == "block" || verdict == "deny" || verdict == "kill") return Ansi::kRed;
  return Ansi::kYellow;
}

}  // namespace

std::string format_watch_header(const WatchStyle& style) {
  std::string out;
  if (style.color) out.append(Ansi::kBold);
  for (size_t id = 0; id < kColumnCount; ++id) cell(out, ColumnId(id), kColumns[id].title);
  if (style.color) out.append(Ansi::kReset);
  return out;
}

std::string format_watch_line(const llm::LlmCall& call, const WatchStyle& style,
                              std::string_view verdict) {
  const bool answered = call.status != 0 || call.latency_ns != 0;
  const std::string_view model =
      call.response_model.empty() ? call.request_model : call.response_model;
  std::string out;
  out.reserve(160);
  cell(out, kTime, local_time(call.start_realtime_ns));
  cell(out, kProcess, process_text(call.process));
  cell(out, kProvider, call.provider.empty() ? "-" : call.provider);
  cell(out, kModel, model.empty() ? "-" : model);
  cell(out, kTokensIn, tokens_text(call.tokens.input));
  cell(out, kTokensOut, tokens_text(call.tokens.output));
  cell(out, kSent, human_bytes(call.request_bytes));
  cell(out, kReceived, call.status == 0 ? "-" : human_bytes(call.response_bytes));
  cell(out, kLatency, answered ? human_duration(call.latency_ns) : "-");
  cell(out, kTtfb, call.stream && call.ttfb_ns != 0 ? human_duration(call.ttfb_ns) : "-");
  cell(out, kStream, call.stream ? "~" : " ");
  cell(out, kStatus, status_text(call),
       style.color && is_error(call) ? Ansi::kRed : std::string_view{});
  cell(out, kVerdict, verdict, style.color ? verdict_color(verdict) : std::string_view{});
  return out;
}

}  // namespace llmtap::sink
