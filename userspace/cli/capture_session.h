#pragma once
// What every command that captures shares: the checks, the BPF program, discovery of TLS
// users, and the poll loop that hands calls, closes and process exits to the command.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "capture/hold_table.h"
#include "capture/tls_call.h"
#include "capture/tls_capture_program.h"

namespace llmtap::cli {

// Which processes to capture and how; set from the command line.
struct CaptureSelection {
  uint32_t pid = 0;
  std::string comm;
  std::string cgroup;
  std::vector<std::string> libs;
  bool scan_processes = true;  // find TLS users among running and new processes
  bool hold_while_attaching = true;
  uint32_t hold_deadline_ms = 0;   // 0: the default
  uint32_t max_bytes = 0;          // 0: the default
  uint32_t ring_buffer_bytes = 0;  // 0: the default
  // Prevent mode: hold writes to LLM endpoints until judged (a policy rule asks `hold`).
  bool prevent = false;
  uint32_t prevent_deadline_ms = 250;
  bool prevent_fail_closed = false;
  bool prevent_new_connections = false;  // hold each new TLS connection's first write too
  bool syscall_hooks = false;  // learn sockets from syscall tracepoints even on 6.3+
};

// The capture's counters at one moment (for metrics; read on the capture's thread).
struct CaptureSnapshot {
  capture::CaptureCounters counters;
  uint64_t holds_released = 0;  // by llmtap and by the guard
  uint64_t hold_p50_ns = 0;
  uint64_t hold_p99_ns = 0;
  size_t probes_attached = 0;
  size_t files_attached = 0;
  uint64_t malformed_records = 0;  // userspace: records that could not be read
  uint64_t orphaned_records = 0;
};

// What a command may ask of the running capture.
class CaptureControl {
 public:
  virtual ~CaptureControl() = default;
  virtual CaptureSnapshot snapshot() const = 0;
  // Stop copying this connection's bytes (see TlsCaptureProgram::quiet_connection).
  virtual void quiet_connection(uint32_t pid, uint64_t ssl) = 0;
  // See TlsCaptureProgram::quiet_connection_until_llm_request and set_llm_request_paths.
  virtual void quiet_connection_until_llm_request(uint32_t pid, uint64_t ssl) = 0;
  virtual void forget_quiet_connection(uint32_t pid, uint64_t ssl) = 0;
  virtual void set_llm_request_paths(const std::vector<std::pair<std::string, bool>>& p) = 0;
  // Prevent mode (see TlsCaptureProgram): whether writes are held, where, and their release.
  virtual bool preventing() const = 0;
  virtual void hold_writes_to(const capture::Endpoint& server) = 0;
  virtual std::optional<capture::ReleasedHold> release_write_hold(uint32_t pid, bool kill) = 0;
  virtual void exempt_from_write_holds(uint32_t pid, uint64_t ssl) = 0;
  virtual void clear_write_hold_exemptions() = 0;
};

struct CaptureHandlers {
  // Once the capture runs, before any record: what the command may ask of it (optional).
  std::function<void(CaptureControl&)> on_start;
  std::function<void(const capture::TlsCall&)> on_call;
  std::function<void(const capture::TlsClose&)> on_close;
  std::function<void(uint32_t pid, uint64_t mono_ns)> on_process_exit;
  // After each poll round (about every 50 ms while records come): flush output, periodic work.
  // Returning false stops the run with status 1 (e.g. stdout closed).
  std::function<bool(uint64_t now_mono_ns)> after_poll;
  // Once, after the last record: end open state, final flush. Returning false gives status 1.
  std::function<bool(uint64_t now_mono_ns)> at_end;
};

// Runs until SIGINT/SIGTERM or `duration_seconds` (0: no limit); returns the exit status.
// Throws capture::CaptureError when the host cannot run the capture.
int run_capture(const CaptureSelection& selection, double duration_seconds,
                const CaptureHandlers& handlers);

// CLOCK_MONOTONIC now, in ns (the clock capture events are stamped with).
uint64_t monotonic_now_ns();
// Wall-clock ns since the epoch for a CLOCK_MONOTONIC time (resynchronised by run_capture).
uint64_t realtime_ns(uint64_t mono_ns);

}  // namespace llmtap::cli
