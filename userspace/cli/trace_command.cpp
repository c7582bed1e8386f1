#include "cli/trace_command.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <set>

#include "capture/call_assembler.h"
#include "capture/host_requirements.h"
#include "capture/tls_capture_program.h"
#include "capture/wall_clock.h"
#include "cli/stop_signal.h"
#include "llmtap_abi.h"
#include "probes/file_identity.h"
#include "probes/system_libraries.h"
#include "probes/tls_probe_table.h"
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

// The files to probe: the system's libssl and every --lib, each distinct file once.
std::vector<std::string> collect_targets(const TraceOptions& options) {
  std::vector<std::string> candidates = probes::find_system_tls_libraries();
  for (const auto& lib : options.libs) {
    if (!probes::identify_file(lib)) throw capture::CaptureError("--lib " + lib + ": no such file");
    candidates.push_back(lib);
  }
  std::vector<std::string> targets;
  std::set<probes::FileIdentity> seen;
  for (const auto& path : candidates) {
    if (auto id = probes::identify_file(path); id && seen.insert(*id).second) {
      targets.push_back(path);
    }
  }
  return targets;
}

size_t attach_targets(capture::TlsCaptureProgram& program, const TraceOptions& options) {
  size_t files = 0;
  for (const auto& path : collect_targets(options)) {
    const auto plan = probes::plan_probes_for_file(path);
    if (plan.empty()) {
      throw capture::CaptureError(path + " defines none of the TLS functions llmtap probes");
    }
    const size_t n = program.attach_file(path, plan);
    spdlog::info("attached {} probes to {}", n, path);
    ++files;
  }
  if (files == 0) {
    throw capture::CaptureError("no TLS library found on this host; name one with --lib PATH");
  }
  return files;
}

void log_summary(const capture::CaptureCounters& c, const capture::AssemblerStats& a) {
  spdlog::info(
      "summary: calls={} bytes={} lost_calls={} lost_bytes={} lost_records={} "
      "truncated_calls={} read_errors={} events={} malformed_records={} orphaned_records={}",
      c.calls, c.bytes, c.lost_calls, c.lost_bytes, c.lost_records, c.truncated_calls,
      c.read_errors, a.calls, a.malformed_records, a.orphaned_records);
  if (c.lost_bytes != 0 || c.lost_calls != 0) {
    spdlog::warn("{} bytes in {} calls were lost: the ring buffer ({}) was full; raise "
                 "--ring-buffer-size or lower --max-bytes",
                 c.lost_bytes, c.lost_calls, "see --ring-buffer-size");
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
  capture::CallAssembler assembler([&](const capture::TlsCall& call) {
    sink::append_tls_event_json(call, wall_clock.realtime_ns(call.mono_ns), out.buffer());
  });

  capture::CaptureOptions capture_options;
  capture_options.target_pid = options.pid;
  if (options.max_bytes != 0) capture_options.max_bytes_per_call = options.max_bytes;
  if (options.ring_buffer_bytes != 0) capture_options.ring_buffer_bytes = options.ring_buffer_bytes;
  capture::TlsCaptureProgram program(
      capture_options, [&](std::span<const std::byte> record) { assembler.feed(record); });

  const size_t files = attach_targets(program, options);
  spdlog::info("tracing {} probes on {} files (ring buffer {} bytes, max {} bytes per call); ready",
               program.attached_probe_count(), files, program.ring_buffer_bytes(),
               capture_options.max_bytes_per_call);

  const auto deadline = options.duration_seconds > 0
                            ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(options.duration_seconds))
                            : Clock::time_point::max();
  int status = 0;
  auto last_resync = Clock::now();
  while (!stop_requested() && Clock::now() < deadline) {
    program.poll(std::chrono::milliseconds(LLMTAP_POLL_INTERVAL_MS));
    if (!out.flush()) {
      spdlog::error("stdout closed; stopping");
      status = 1;
      break;
    }
    if (Clock::now() - last_resync > std::chrono::seconds(10)) {
      wall_clock.resync();
      last_resync = Clock::now();
    }
  }

  program.drain();
  assembler.flush();
  if (!out.flush()) status = 1;
  log_summary(program.counters(), assembler.stats());
  return status;
}

}  // namespace llmtap::cli
