#pragma once
// The TLS capture BPF program: load, attach to files and syscall tracepoints, poll the ring
// buffer, read the loss counters. The only code in llmtap that talks to libbpf.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "capture/capture_error.h"
#include "probes/tls_probe_table.h"

namespace llmtap::capture {

struct CaptureOptions {
  uint32_t target_pid = 0;          // 0: every process
  std::string target_comm;          // empty: every command
  std::string target_cgroup;        // cgroup v2 directory; empty: every cgroup
  bool hold_while_attaching = true;  // stop a process connecting while its TLS lib attaches
  uint32_t max_bytes_per_call;      // captured prefix per call; the rest is `truncated`
  uint32_t ring_buffer_bytes;       // rounded up to a power of two
  // Records wait in the ring until this many bytes are pending or the next poll tick
  // (batching saves a wakeup per TLS call); 0 wakes the reader on every call.
  uint32_t wakeup_bytes;
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
  uint64_t quiet_bytes = 0;  // bytes of quiet connections: counted, not copied
};

// A file as the kernel names it (inode->i_sb->s_dev, i_ino): see llmtap_file_key.
struct KernelFileKey {
  uint64_t dev = 0;
  uint64_t ino = 0;
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

  // Discovery bookkeeping shared with the kernel side.
  // Its exec/mmap raises no more events (`count_users`: events only to count its users).
  void mark_file_known(const KernelFileKey& file, bool count_users = false);
  void forget_file(const KernelFileKey& file);  // its next exec/mmap raises an event again
  void watch_process(uint32_t pid);                   // report its exit
  // From now on the kernel counts this connection's calls but copies none of their bytes
  // (LLMTAP_CALL_QUIET): a later stage will never parse them. Ends with the connection.
  void quiet_connection(uint32_t pid, uint64_t ssl);
  // Ends the pending attach of `pid`; true if the kernel stopped it meanwhile (the caller
  // must resume it).
  bool finish_pending_attach(uint32_t pid);
  // Safety net: ends pending attaches older than `age` (their event lost or failed) and
  // resumes the processes they held. Returns how many were resumed.
  size_t expire_pending_attaches(std::chrono::nanoseconds age);

  // Waits up to `timeout` for a wakeup, then hands every pending record to the handler;
  // returns how many.
  int poll(std::chrono::milliseconds timeout);
  // Hands over whatever is in the ring buffer now, without waiting.
  int drain();

  CaptureCounters counters() const;
  uint32_t ring_buffer_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmtap::capture
