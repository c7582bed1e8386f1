#pragma once
// Writes batches of bytes to a file descriptor in order without making the caller wait for the
// reader at the other end: what the descriptor takes at once is written on the spot; the rest
// joins a backlog that a writer thread of its own writes out. The backlog is capped: a batch
// that would take it past the cap is dropped whole and counted, or (WhenFull::kWait) waits for
// room.
//
// Why: the agent's capture loop writes its output (stdout) between ring drains. A reader that
// falls behind (a terminal, `| less`, a slow pipeline) used to block that loop in write(): the
// kernel ring filled and calls were lost, and the loop's other work (the policy's actions,
// releasing held writers) waited with it.
//
// "At once" by the descriptor's kind: a regular file or a character device that is not a
// terminal (/dev/null) is written directly; a pipe or socket with pwritev2(RWF_NOWAIT) (Linux
// 6.4 and later for pipes; on older kernels a pipe's free room is read with FIONREAD and a
// socket is written with MSG_DONTWAIT); a terminal or anything else always through the thread.
//
// Thread use: one owner thread calls submit(), drain() and stats(); the writer thread is internal.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace llmtap::common {

struct BacklogStats {
  uint64_t written_inline = 0;   // batches submit() wrote whole at once
  uint64_t written_later = 0;    // batches (or their rests) the writer thread wrote
  uint64_t dropped_batches = 0;  // the backlog was full, the fd failed, or drain() gave up
  uint64_t dropped_bytes = 0;
  uint64_t dropped_lines = 0;    // '\n' in the dropped bytes
  size_t peak_backlog_bytes = 0;
};

class BacklogWriter {
 public:
  enum class Probe { kAuto, kNoNowait };  // kNoNowait: as on a kernel without RWF_NOWAIT pipes
  // What submit() does with a batch that would take the backlog past its cap.
  enum class WhenFull {
    kDrop,  // drop it, counted: the caller never waits (the daemon: its actions must go on)
    kWait,  // wait until the writer has made room (trace: the kernel ring, already paid for,
            // holds the rest, and what it cannot hold is dropped there before any work is done)
  };

  // `fd` stays the caller's (not closed). `max_backlog_bytes` 0: nothing is queued; what the
  // descriptor cannot take at once is dropped (kDrop) or waited for (kWait).
  BacklogWriter(int fd, size_t max_backlog_bytes, WhenFull when_full = WhenFull::kDrop,
                Probe probe = Probe::kAuto);
  // Stops the writer thread without writing what is still queued (drain() first for that). A
  // writer thread stuck in write() on a reader that never reads is left to the process's exit.
  ~BacklogWriter();
  BacklogWriter(const BacklogWriter&) = delete;
  BacklogWriter& operator=(const BacklogWriter&) = delete;

  // Writes or queues `batch`; when the backlog would pass its cap, drops it or first waits for
  // room (WhenFull). `batch` comes back
  // empty, keeping a capacity when it can. False once the descriptor has failed (EPIPE: the
  // reader is gone; any other write error): that batch and every later one are dropped.
  bool submit(std::string& batch);

  // Waits until the backlog is written out. Gives up, dropping what is left (counted), when no
  // byte has been written for `stall_limit`. False when the descriptor failed or it gave up.
  bool drain(std::chrono::milliseconds stall_limit);

  BacklogStats stats() const;
  size_t backlog_bytes() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;  // shared with the writer thread, which may outlive this
};

}  // namespace llmtap::common
