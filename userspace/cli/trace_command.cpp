#include "cli/trace_command.h"

#include "cli/stdout_lines.h"
#include "conn/connection_table.h"
#include "sink/tls_event_json.h"

namespace llmtap::cli {

int run_trace(const TraceOptions& options) {
  // trace waits when stdout's backlog is full: past it the kernel ring holds what comes, and
  // what it cannot hold is dropped there, before it is formatted for nothing.
  StdoutLines out(options.stdout_backlog_bytes, common::BacklogWriter::WhenFull::kWait);
  conn::ConnectionTable connections;
  auto write_close = [&](const conn::ConnectionState& state, capture::CloseReason reason,
                         uint64_t mono_ns) {
    sink::append_tls_close_json(state, reason, mono_ns, realtime_ns(mono_ns), out.buffer());
  };
  CaptureHandlers handlers;
  handlers.on_call = [&](const capture::TlsCall& call) {
    connections.on_call(call);
    sink::append_tls_event_json(call, realtime_ns(call.mono_ns), out.buffer());
    out.flush_if_full();
  };
  handlers.on_close = [&](const capture::TlsClose& close) {
    if (auto state = connections.on_close(close)) write_close(*state, close.reason, close.mono_ns);
  };
  handlers.on_process_exit = [&](uint32_t pid, uint64_t mono_ns) {
    for (const auto& state : connections.on_process_exit(pid)) {
      write_close(state, capture::CloseReason::kProcessExited, mono_ns);
    }
  };
  handlers.after_poll = [&](uint64_t) { return out.flush(); };
  handlers.at_end = [&](uint64_t) { return out.finish(); };
  return run_capture(options.capture, options.duration_seconds, handlers);
}

}  // namespace llmtap::cli
