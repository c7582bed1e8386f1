#include "cli/capture_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "capture/agent_capabilities.h"
#include "capture/call_assembler.h"
#include "capture/host_requirements.h"
#include "capture/poll_pacer.h"
#include "capture/tls_capture_program.h"
#include "capture/tls_discovery.h"
#include "capture/wall_clock.h"
#include "cli/stop_signal.h"
#include "probes/system_libraries.h"

namespace llmtap::cli {
namespace {

using Clock = std::chrono::steady_clock;

capture::WallClock& wall_clock() {
  static capture::WallClock clock;
  return clock;
}

capture::CaptureOptions capture_options_for(const CaptureSelection& selection) {
  capture::CaptureOptions c;
  c.target_pid = selection.pid;
  c.target_comm = selection.comm;
  c.target_cgroup = selection.cgroup;
  c.hold_while_attaching = selection.hold_while_attaching;
  if (selection.hold_deadline_ms != 0) {
    c.hold_deadline = std::chrono::milliseconds(selection.hold_deadline_ms);
  }
  if (selection.max_bytes != 0) c.max_bytes_per_call = selection.max_bytes;
  if (selection.ring_buffer_bytes != 0) c.ring_buffer_bytes = selection.ring_buffer_bytes;
  c.prevent = selection.prevent;
  c.prevent_deadline = std::chrono::milliseconds(selection.prevent_deadline_ms);
  c.prevent_fail_closed = selection.prevent_fail_closed;
  c.prevent_new_connections = selection.prevent_new_connections;
  if (selection.syscall_hooks) c.socket_hooks = capture::CaptureOptions::SocketHooks::kSyscalls;
  return c;
}

void log_hold_summary(const capture::CaptureCounters& c, const capture::HoldStats& h) {
  const auto us = [](uint64_t ns) { return ns / 1000; };
  spdlog::info(
      "hold summary: holds={} released={} deadline_resumes={} skipped={} orphans_resumed={} "
      "prevent_holds={} prevent_unbound={} prevent_retries={} "
      "hold_us_p50={} hold_us_p99={} hold_us_max={}{}",
      c.holds, h.released, h.released_by_guard, c.holds_skipped, h.orphans_resumed, c.prevent_holds,
      c.prevent_unbound, c.prevent_retries, us(h.hold_time.percentile(0.5)),
      us(h.hold_time.percentile(0.99)), us(h.hold_time.percentile(1.0)),
      h.why_disabled.empty() ? "" : " (holds off: " + h.why_disabled + ")");
}

void log_summary(const capture::CaptureCounters& c, const capture::AssemblerStats& a,
                 const capture::DiscoveryStats& d) {
  spdlog::info(
      "capture summary: calls={} bytes={} lost_calls={} lost_bytes={} lost_records={} "
      "truncated_calls={} read_errors={} events={} closes={} malformed_records={} "
      "orphaned_records={} lost_proc_events={} files_attached={} files_detached={} "
      "files_examined={} attach_failures={} exec_events={} lib_events={} exit_events={} "
      "reincarnations={} quiet_bytes={}",
      c.calls, c.bytes, c.lost_calls, c.lost_bytes, c.lost_records, c.truncated_calls,
      c.read_errors, a.calls, a.closes, a.malformed_records, a.orphaned_records, c.lost_proc_events,
      d.files_attached, d.files_detached, d.files_examined, d.attach_failures, d.exec_events,
      d.lib_events, d.exit_events, d.reincarnations, c.quiet_bytes);
  if (c.lost_bytes != 0 || c.lost_calls != 0) {
    spdlog::warn(
        "{} bytes in {} calls were lost: the ring buffer was full; raise "
        "--ring-buffer-size or lower --max-bytes",
        c.lost_bytes, c.lost_calls);
  }
}

}  // namespace

uint64_t monotonic_now_ns() { return capture::monotonic_now_ns(); }

uint64_t realtime_ns(uint64_t mono_ns) { return wall_clock().realtime_ns(mono_ns); }

int run_capture(const CaptureSelection& selection, double duration_seconds,
                const CaptureHandlers& handlers) {
  capture::check_bpf_privileges();
  const capture::CapabilityCheck caps =
      capture::check_capabilities(capture::effective_capabilities(),
                                  capture::kernel_charges_bpf_to_memlock());
  if (!caps.missing_optional.empty()) {
    spdlog::warn("running without {}: what needs them will not work",
                 capture::describe_missing(caps.missing_optional));
  }
  capture::check_kernel_btf();
  if (capture::ensure_tracefs_mounted()) spdlog::info("mounted tracefs at /sys/kernel/tracing");
  install_stop_signal_handlers();
  wall_clock().resync();

  capture::CallAssembler assembler(handlers.on_call, handlers.on_close);

  // Exits are applied after each poll round: by then the data ring has given up every record
  // the process wrote before it exited (the two rings are read separately).
  std::vector<std::pair<uint32_t, uint64_t>> exited;
  capture::TlsDiscovery* discovery_ptr = nullptr;
  const capture::CaptureOptions capture_options = capture_options_for(selection);
  capture::TlsCaptureProgram program(
      capture_options, [&](std::span<const std::byte> r) { assembler.feed(r); },
      [&](std::span<const std::byte> r) {
        if (discovery_ptr != nullptr) discovery_ptr->on_proc_event(r);
      });

  capture::DiscoveryOptions discovery_options;
  discovery_options.pinned_files = probes::find_system_tls_libraries();
  discovery_options.pinned_files.insert(discovery_options.pinned_files.end(),
                                        selection.libs.begin(), selection.libs.end());
  discovery_options.scan_processes = selection.scan_processes;
  capture::TlsDiscovery discovery(program, discovery_options);
  discovery_ptr = &discovery;
  discovery.on_exit = [&](pid_t pid, uint64_t mono_ns) {
    exited.emplace_back(static_cast<uint32_t>(pid), mono_ns);
  };
  discovery.on_attached = [](const capture::AttachLatency& a) {
    spdlog::debug("attach latency {} us ({} of pid {}: {})", a.latency_ns / 1000,
                  a.from_exec ? "exec" : "library mapped", a.pid, a.path);
  };
  class ProgramControl : public CaptureControl {
   public:
    ProgramControl(capture::TlsCaptureProgram& program, capture::TlsDiscovery& discovery,
                   capture::CallAssembler& assembler)
        : program_(program), discovery_(discovery), assembler_(assembler) {}
    CaptureSnapshot snapshot() const override {
      CaptureSnapshot s;
      s.counters = program_.counters();
      const capture::HoldStats& h = program_.hold_stats();
      s.holds_released = h.released + h.released_by_guard;
      s.hold_p50_ns = h.hold_time.percentile(0.5);
      s.hold_p99_ns = h.hold_time.percentile(0.99);
      s.probes_attached = program_.attached_probe_count();
      s.files_attached = discovery_.attached_files();
      s.malformed_records = assembler_.stats().malformed_records;
      s.orphaned_records = assembler_.stats().orphaned_records;
      return s;
    }
    void quiet_connection_until_llm_request(uint32_t pid, uint64_t ssl) override {
      program_.quiet_connection_until_llm_request(pid, ssl);
    }
    void forget_quiet_connection(uint32_t pid, uint64_t ssl) override {
      program_.forget_quiet_connection(pid, ssl);
    }
    void set_llm_request_paths(const std::vector<std::pair<std::string, bool>>& p) override {
      program_.set_llm_request_paths(p);
    }
    void quiet_connection(uint32_t pid, uint64_t ssl) override {
      program_.quiet_connection(pid, ssl);
    }
    bool preventing() const override { return program_.preventing(); }
    void hold_writes_to(const capture::Endpoint& server) override {
      program_.hold_writes_to(server);
    }
    std::optional<capture::ReleasedHold> release_write_hold(uint32_t pid, bool kill) override {
      return program_.release_write_hold(pid, kill);
    }
    void exempt_from_write_holds(uint32_t pid, uint64_t ssl) override {
      program_.exempt_from_write_holds(pid, ssl);
    }
    void clear_write_hold_exemptions() override { program_.clear_write_hold_exemptions(); }

   private:
    capture::TlsCaptureProgram& program_;
    capture::TlsDiscovery& discovery_;
    capture::CallAssembler& assembler_;
  } control(program, discovery, assembler);
  if (handlers.on_start) handlers.on_start(control);
  discovery.start();
  spdlog::info(
      "tracing {} probes on {} files, sockets from {} hooks (ring buffer {} bytes, max {} bytes "
      "per call); ready",
      program.attached_probe_count(), discovery.attached_files(), program.socket_hooks(),
      program.ring_buffer_bytes(), capture_options.max_bytes_per_call);

  const auto deadline = duration_seconds > 0
                            ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(duration_seconds))
                            : Clock::time_point::max();
  int status = 0;
  auto last_housekeeping = Clock::now();
  auto apply_exits = [&] {
    for (const auto& [pid, mono_ns] : exited) handlers.on_process_exit(pid, mono_ns);
    exited.clear();
  };
  capture::PollPacer pacer;
  std::chrono::milliseconds timeout = pacer.first_timeout();
  while (!stop_requested() && Clock::now() < deadline) {
    // Never past the end of a timed run.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    const int records = program.poll(std::max(std::chrono::milliseconds(0), std::min(timeout, left)));
    const capture::PollPacer::Step step = pacer.after_round(records);
    if (step.reader_idle) program.set_reader_idle(*step.reader_idle);
    timeout = step.timeout;
    apply_exits();
    if (!handlers.after_poll(monotonic_now_ns())) {
      spdlog::error("output closed; stopping");
      status = 1;
      break;
    }
    if (Clock::now() - last_housekeeping > std::chrono::seconds(5)) {
      wall_clock().resync();
      discovery.reconcile();
      program.check_hold_guard();
      last_housekeeping = Clock::now();
    }
  }

  // Nothing is stopped from here on, whatever the rest of the exit path does.
  program.stop_holding();
  program.drain();
  apply_exits();
  assembler.flush();
  if (!handlers.at_end(monotonic_now_ns())) status = 1;
  log_summary(program.counters(), assembler.stats(), discovery.stats());
  log_hold_summary(program.counters(), program.hold_stats());
  return status;
}

}  // namespace llmtap::cli
