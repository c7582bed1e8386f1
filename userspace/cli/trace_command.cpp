#include "cli/trace_command.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <vector>

#include "capture/call_assembler.h"
#include "capture/host_requirements.h"
#include "capture/tls_capture_program.h"
#include "capture/tls_discovery.h"
#include "capture/wall_clock.h"
#include "cli/stop_signal.h"
#include "conn/connection_table.h"
#include "llmtap_abi.h"
#include "probes/system_libraries.h"
#include "sink/tls_event_json.h"

namespace llmtap::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Batches JSON lines and writes them to stdout; a write error (reader gone) stops the run.
class StdoutLines {
 public:
  std::string& buffer() { return buffer_; }
  bool flush() {
    if (buffer_.empty()) return true;
    const bool ok = std::fwrite(buffer_.data(), 1, buffer_.size(), stdout) == buffer_.size() &&
                    std::fflush(stdout) == 0;
    buffer_.clear();
    return ok;
  }

 private:
  std::string buffer_;
};

capture::CaptureOptions capture_options_for(const TraceOptions& options) {
  capture::CaptureOptions c;
  c.target_pid = options.pid;
  c.target_comm = options.comm;
  c.target_cgroup = options.cgroup;
  c.hold_while_attaching = options.hold_while_attaching;
  if (options.max_bytes != 0) c.max_bytes_per_call = options.max_bytes;
  if (options.ring_buffer_bytes != 0) c.ring_buffer_bytes = options.ring_buffer_bytes;
  return c;
}

void log_summary(const capture::CaptureCounters& c, const capture::AssemblerStats& a,
                 const capture::DiscoveryStats& d) {
  spdlog::info(
      "summary: calls={} bytes={} lost_calls={} lost_bytes={} lost_records={} "
      "truncated_calls={} read_errors={} events={} closes={} malformed_records={} "
      "orphaned_records={} lost_proc_events={} files_attached={} files_detached={} "
      "files_examined={} attach_failures={} exec_events={} lib_events={} exit_events={} "
      "holds={} resumed={}",
      c.calls, c.bytes, c.lost_calls, c.lost_bytes, c.lost_records, c.truncated_calls,
      c.read_errors, a.calls, a.closes, a.malformed_records, a.orphaned_records,
      c.lost_proc_events, d.files_attached, d.files_detached, d.files_examined,
      d.attach_failures, d.exec_events, d.lib_events, d.exit_events, c.holds, d.resumed);
  if (c.lost_bytes != 0 || c.lost_calls != 0) {
    spdlog::warn("{} bytes in {} calls were lost: the ring buffer was full; raise "
                 "--ring-buffer-size or lower --max-bytes",
                 c.lost_bytes, c.lost_calls);
  }
}

}  // namespace

int run_trace(const TraceOptions& options) {
  capture::check_bpf_privileges();
  capture::check_kernel_btf();
  if (capture::ensure_tracefs_mounted()) spdlog::info("mounted tracefs at /sys/kernel/tracing");
  install_stop_signal_handlers();

  capture::WallClock wall_clock;
  StdoutLines out;
  conn::ConnectionTable connections;
  auto write_close = [&](const conn::ConnectionState& state, capture::CloseReason reason,
                         uint64_t mono_ns) {
    sink::append_tls_close_json(state, reason, mono_ns, wall_clock.realtime_ns(mono_ns),
                                out.buffer());
  };
  capture::CallAssembler assembler(
      [&](const capture::TlsCall& call) {
        connections.on_call(call);
        sink::append_tls_event_json(call, wall_clock.realtime_ns(call.mono_ns), out.buffer());
      },
      [&](const capture::TlsClose& close) {
        if (auto state = connections.on_close(close)) write_close(*state, close.reason, close.mono_ns);
      });

  // Exits are applied after each poll round: by then the data ring has given up every record
  // the process wrote before it exited (the two rings are read separately).
  std::vector<std::pair<uint32_t, uint64_t>> exited;
  capture::TlsDiscovery* discovery_ptr = nullptr;
  const capture::CaptureOptions capture_options = capture_options_for(options);
  capture::TlsCaptureProgram program(
      capture_options, [&](std::span<const std::byte> r) { assembler.feed(r); },
      [&](std::span<const std::byte> r) {
        if (discovery_ptr != nullptr) discovery_ptr->on_proc_event(r);
      });

  capture::DiscoveryOptions discovery_options;
  discovery_options.pinned_files = probes::find_system_tls_libraries();
  discovery_options.pinned_files.insert(discovery_options.pinned_files.end(), options.libs.begin(),
                                        options.libs.end());
  discovery_options.scan_processes = options.scan_processes;
  capture::TlsDiscovery discovery(program, discovery_options);
  discovery_ptr = &discovery;
  discovery.on_exit = [&](pid_t pid, uint64_t mono_ns) {
    exited.emplace_back(static_cast<uint32_t>(pid), mono_ns);
  };
  discovery.on_attached = [](const capture::AttachLatency& a) {
    spdlog::debug("attach latency {} us ({} of pid {}: {})", a.latency_ns / 1000,
                  a.from_exec ? "exec" : "library mapped", a.pid, a.path);
  };
  discovery.start();
  spdlog::info(
      "tracing {} probes on {} files (ring buffer {} bytes, max {} bytes per call); ready",
      program.attached_probe_count(), discovery.attached_files(), program.ring_buffer_bytes(),
      capture_options.max_bytes_per_call);

  const auto deadline = options.duration_seconds > 0
                            ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(options.duration_seconds))
                            : Clock::time_point::max();
  int status = 0;
  auto last_housekeeping = Clock::now();
  auto apply_exits = [&] {
    for (const auto& [pid, mono_ns] : exited) {
      for (const auto& state : connections.on_process_exit(pid)) {
        write_close(state, capture::CloseReason::kProcessExited, mono_ns);
      }
    }
    exited.clear();
  };
  while (!stop_requested() && Clock::now() < deadline) {
    program.poll(std::chrono::milliseconds(LLMTAP_POLL_INTERVAL_MS));
    apply_exits();
    // A process held at connect() whose attach never completed must not stay stopped.
    if (const size_t n = program.expire_pending_attaches(std::chrono::milliseconds(500))) {
      spdlog::warn("resumed {} processes whose TLS library attach did not complete", n);
    }
    if (!out.flush()) {
      spdlog::error("stdout closed; stopping");
      status = 1;
      break;
    }
    if (Clock::now() - last_housekeeping > std::chrono::seconds(5)) {
      wall_clock.resync();
      discovery.reconcile();
      last_housekeeping = Clock::now();
    }
  }

  program.drain();
  apply_exits();
  assembler.flush();
  if (!out.flush()) status = 1;
  log_summary(program.counters(), assembler.stats(), discovery.stats());
  return status;
}

}  // namespace llmtap::cli
