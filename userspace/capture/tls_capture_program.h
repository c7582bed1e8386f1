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
};

class TlsCaptureProgram {
 public:
  using RecordHandler = std::function<void(std::span<const std::byte>)>;

  // Opens, configures and loads the programs, attaches the syscall tracepoints and sets up
  // the ring buffer. Throws CaptureError with the reason when the kernel refuses.
  TlsCaptureProgram(const CaptureOptions& options, RecordHandler on_record);
  ~TlsCaptureProgram();
  TlsCaptureProgram(const TlsCaptureProgram&) = delete;
  TlsCaptureProgram& operator=(const TlsCaptureProgram&) = delete;

  // Attaches `plan` to the file at `path` (for every process that maps it, now or later).
  // Returns the number of uprobes attached. Throws CaptureError when none could be.
  size_t attach_file(const std::string& path, const std::vector<probes::FunctionProbe>& plan);
  // Removes every probe attached to `path`.
  void detach_file(const std::string& path);
  size_t attached_probe_count() const;

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
