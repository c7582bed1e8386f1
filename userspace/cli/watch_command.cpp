#include "cli/watch_command.h"

#include "cli/stdout_lines.h"
#include "sink/watch_view.h"

namespace llmtap::cli {
namespace {

// "allow", or the most severe finding's severity and rule: "HIGH deepseek-models".
std::string verdict_of(const std::vector<policy::Finding>& findings) {
  const policy::Finding* worst = nullptr;
  for (const auto& f : findings) {
    if (worst == nullptr || f.severity > worst->severity) worst = &f;
  }
  if (worst == nullptr) return "allow";
  std::string severity(policy::severity_name(worst->severity));
  for (char& c : severity) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return severity + " " + worst->rule_id +
         (findings.size() > 1 ? " +" + std::to_string(findings.size() - 1) : "");
}

}  // namespace

int run_watch(const WatchOptions& options) {
  StdoutLines out(options.stdout_backlog_bytes);
  sink::WatchStyle style;
  style.color = options.color;
  sink::WatchSummary window;
  sink::WatchSummary run;
  const uint64_t interval_ns = static_cast<uint64_t>(options.summary_interval_seconds * 1e9);
  uint64_t next_summary_ns = monotonic_now_ns() + interval_ns;
  out.buffer() += sink::format_watch_header(style);
  out.buffer() += '\n';

  LlmSessionHandlers handlers;
  handlers.on_call = [&](const llm::LlmCall& call, const std::vector<policy::Finding>& findings) {
    out.buffer() += sink::format_watch_line(call, style, verdict_of(findings));
    out.buffer() += '\n';
    window.add(call);
    run.add(call);
  };
  handlers.after_poll = [&](uint64_t now) {
    if (interval_ns != 0 && now >= next_summary_ns) {
      if (window.calls() != 0) {
        out.buffer() += "\n-- last " +
                        std::to_string(static_cast<int>(options.summary_interval_seconds)) +
                        " s --\n" + window.render() + "\n";
      }
      window.reset();
      next_summary_ns = now + interval_ns;
    }
    return out.flush();
  };
  handlers.at_end = [&](uint64_t) {
    out.buffer() += "\n-- whole run --\n" + run.render() + "\n";
    return out.finish();
  };
  return run_llm_session(options.session, handlers);
}

}  // namespace llmtap::cli
