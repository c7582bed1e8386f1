#pragma once
// The TLS capture BPF program: load, attach to files and syscall tracepoints, poll the ring
// buffer, read the loss counters. The only code in llmtap that talks to libbpf.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "capture/capture_error.h"
#include "capture/hold_table.h"
#include "capture/tls_call.h"
#include "common/latency_histogram.h"
#include "probes/tls_probe_table.h"

namespace llmtap::capture {

struct CaptureOptions {
  uint32_t target_pid = 0;           // 0: every process
  std::string target_comm;           // empty: every command
  std::string target_cgroup;         // cgroup v2 directory; empty: every cgroup
  bool hold_while_attaching = true;  // stop a process connecting while its TLS lib attaches
  // A stopped process is resumed this long after its stop at the latest (by the guard).
  std::chrono::nanoseconds hold_deadline;
  uint32_t max_bytes_per_call;  // captured prefix per call; the rest is `truncated`
  // 0: default_ring_bytes(max_bytes_per_call) (ring_size.h); else rounded up to a power of two.
  uint32_t ring_buffer_bytes;
  // Records wait in the ring until this many bytes are pending or the next poll tick
  // (batching saves a wakeup per TLS call); 0 wakes the reader on every call.
  uint32_t wakeup_bytes;
  // Prevent mode (docs/enforcement.md): writes to the endpoints given to hold_writes_to()
  // are held at their entry until release_write_hold(); at most `prevent_deadline`, then
  // resumed, or killed when `prevent_fail_closed`. Needs holds (the guard) to work.
  bool prevent = false;
  std::chrono::milliseconds prevent_deadline{250};
  bool prevent_fail_closed = false;
  // Also hold the first write of every TLS connection to an endpoint not known as an LLM
  // server, so the first call to a new one is judged before it leaves (a hold per connection).
  bool prevent_new_connections = false;
  // How a TLS call's socket is learned (docs/capture-cost.md): kAuto takes the socket layer's
  // tracepoints and the dynamic loader's probe where the kernel has them (6.3+), which cost
  // processes that make no TLS call nothing; kSyscalls takes the syscall tracepoints, which
  // tax every syscall of every process (the only way before 6.3).
  enum class SocketHooks { kAuto, kSyscalls };
  SocketHooks socket_hooks = SocketHooks::kAuto;
  CaptureOptions();
};

// Cumulative, summed over CPUs (see enum llmtap_stat in llmtap_abi.h).
struct CaptureCounters {
  uint64_t calls = 0;
  uint64_t bytes = 0;
  uint64_t lost_calls = 0;
  uint64_t lost_bytes = 0;
  uint64_t lost_records = 0;
  uint64_t truncated_calls = 0;
  uint64_t read_errors = 0;
  uint64_t lost_proc_events = 0;
  uint64_t holds = 0;
  uint64_t quiet_bytes = 0;      // bytes of quiet connections: counted, not copied
  uint64_t holds_skipped = 0;    // holds not made (table full, switched off, refused)
  uint64_t prevent_holds = 0;    // writes held in prevent mode
  uint64_t prevent_unbound = 0;  // writes to an LLM endpoint not held: socket unknown yet
  uint64_t prevent_retries = 0;  // held writes retried (WANT_WRITE), not held again
};

// How holds ended (the kernel counts how many were made: CaptureCounters::holds).
struct HoldStats {
  bool enabled = false;  // holds are made on this run (see why_disabled otherwise)
  std::string why_disabled;
  uint64_t released = 0;           // released by llmtap itself (process resumed or gone)
  uint64_t released_by_guard = 0;  // released by the hold guard at their deadline
  uint64_t orphans_resumed = 0;    // processes a dead llmtap left stopped, resumed at start
  LatencyHistogram hold_time{LatencyHistogram::kFineScaleNs};  // stop to release, here
};

// One incarnation of a file as the kernel names it: see llmtap_file_key.
struct KernelFileKey {
  uint64_t dev = 0;  // inode->i_sb->s_dev: MAJOR << 20 | MINOR
  uint64_t ino = 0;
  int64_t ctime_sec = 0;
  uint32_t ctime_nsec = 0;
  uint32_t generation = 0;
  auto operator<=>(const KernelFileKey&) const = default;
};

class TlsCaptureProgram {
 public:
  using RecordHandler = std::function<void(std::span<const std::byte>)>;

  // Opens, configures and loads the programs, attaches the tracepoints and sets up the ring
  // buffers: data records go to `on_record`, process events (llmtap_proc_event) to
  // `on_proc_event`. Throws CaptureError with the reason when the kernel refuses.
  TlsCaptureProgram(const CaptureOptions& options, RecordHandler on_record,
                    RecordHandler on_proc_event);
  ~TlsCaptureProgram();
  TlsCaptureProgram(const TlsCaptureProgram&) = delete;
  TlsCaptureProgram& operator=(const TlsCaptureProgram&) = delete;

  // Attaches `plan` to the open file `fd` (for every process that maps it, now or later),
  // remembered as `name`. Returns the number of uprobes attached. Throws CaptureError when
  // none could be.
  size_t attach_file(const std::string& name, int fd,
                     const std::vector<probes::FunctionProbe>& plan);
  // Removes every probe attached as `name`.
  void detach_file(const std::string& name);
  size_t attached_probe_count() const;
  // Stop copying the connection's bytes except for a call that starts an HTTP/1.x request
  // whose path matches one of the patterns given to set_llm_request_paths (there copying
  // resumes, TlsCall::resumed). For a connection whose requests are not LLM calls.
  void quiet_connection_until_llm_request(uint32_t pid, uint64_t ssl);
  // The connection ended: its quiet entry goes (whichever mode).
  void forget_quiet_connection(uint32_t pid, uint64_t ssl);
  // The path patterns (text, suffix?) a request must match to resume a connection; at most
  // LLMTAP_MAX_PATH_PATTERNS of at most LLMTAP_PATH_PATTERN_LEN - 1 bytes (others ignored).
  void set_llm_request_paths(const std::vector<std::pair<std::string, bool>>& patterns);
  size_t llm_request_path_count() const;
  // "socket" (socket-layer tracepoints, loader probe) or "syscalls": what this kernel allowed.
  std::string_view socket_hooks() const;
  // True when new TLS libraries are found through the dynamic loader's probe (give
  // plan_probes_for_file watch_loader), false when through the mmap syscall tracepoint.
  bool watches_dynamic_loader() const;

  // Discovery bookkeeping shared with the kernel side.
  // Its exec/mmap raises no more events (`count_users`: events only to count its users).
  void mark_file_known(const KernelFileKey& file, bool count_users = false);
  void forget_file(const KernelFileKey& file);  // its next exec/mmap raises an event again
  void watch_process(uint32_t pid);             // report its exit
  // From now on the kernel counts this connection's calls but copies none of their bytes
  // (LLMTAP_CALL_QUIET): a later stage will never parse them. Ends with the connection.
  void quiet_connection(uint32_t pid, uint64_t ssl);
  // Ends `pid`'s hold window: it may no longer be stopped for this attach, and if it was
  // stopped meanwhile it is resumed now. Returns the release when there was a hold.
  std::optional<ReleasedHold> end_hold_window(uint32_t pid);
  // Prevent mode: whether writes are being held (holds work and it was asked for).
  bool preventing() const;
  // Hold writes on connections to `server` (an LLM endpoint) from now on.
  void hold_writes_to(const Endpoint& server);
  // Ends pid's prevent hold: resumes the writer, or kills it (`kill`). nullopt when it was
  // not held (or the guard ended the hold at its deadline).
  std::optional<ReleasedHold> release_write_hold(uint32_t pid, bool kill);
  // Never hold this connection's writes (no rule holds its process's); forgotten with it, or
  // by clear_write_hold_exemptions() when the policy changes.
  void exempt_from_write_holds(uint32_t pid, uint64_t ssl);
  void clear_write_hold_exemptions();
  // No process is stopped after this returns: holds are switched off in the kernel, the
  // stops in flight land in the table, and every process in it is resumed. Idempotent; the
  // destructor calls it first.
  void stop_holding();
  const HoldStats& hold_stats() const;
  // Restarts the hold guard if it died (holds are switched off when it cannot be).
  void check_hold_guard();

  // Waits up to `timeout` for a wakeup, then hands every pending record to the handler;
  // returns how many.
  int poll(std::chrono::milliseconds timeout);
  // Hands over whatever is in the ring buffer now, without waiting.
  int drain();
  // While set, every data record wakes a poll() that waits (PollPacer decides when): the
  // reader can then wait long while nothing comes without delaying what does.
  void set_reader_idle(bool idle);

  CaptureCounters counters() const;
  uint32_t ring_buffer_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmtap::capture
