#pragma once
// Batches output lines and hands them to stdout once per poll round (and at each
// kStdoutBatchBytes). A reader that falls behind gets a capped backlog (common/backlog_writer.h);
// when it is full, the daemon and watch drop whole lines, counted, and go on; trace waits.

#include <chrono>
#include <cstddef>
#include <string>

#include "common/backlog_writer.h"

namespace llmtap::cli {

// The pipe capacity StdoutLines asks for when stdout is a pipe: one poll round's output at a few
// thousand calls a second (about 0.5 MiB) fits, so a reader that keeps up is woken once per round
// and the agent does not sleep and wake once per 64 KiB (the kernel's default capacity). 1 MiB is
// also the kernel's default fs.pipe-max-size, the most an unprivileged process may ask for.
inline constexpr int kStdoutPipeBytes = 1 << 20;

// When `fd` is a pipe (or FIFO) smaller than `bytes`, asks the kernel for `bytes` of capacity,
// or for fs.pipe-max-size when that is lower. Never shrinks a pipe. Returns the capacity the pipe
// has afterwards, or 0 when `fd` is not a pipe. A refusal (the user's pipe page quota) leaves the
// pipe as it was and is not an error: output still works, with more wakeups.
int widen_pipe(int fd, int bytes);

// The default cap on what waits for stdout's reader (--stdout-backlog) in the daemon and watch:
// memory used only while the reader is behind. trace's default is none: it waits for its reader
// as it always did, and its kernel ring (already paid for) holds what comes meanwhile; a larger
// backlog lets it ride out a longer stop of its reader, at the cost of touching fresh memory.
inline constexpr size_t kDefaultStdoutBacklogBytes = size_t{64} << 20;

// A round's output past this is handed over at once rather than at the round's end, so that
// batches stay the size of the buffers the writer keeps for reuse (large bodies in trace).
inline constexpr size_t kStdoutBatchBytes = size_t{1} << 20;

// How long finish() waits on a reader that reads nothing before it gives up.
inline constexpr std::chrono::milliseconds kStdoutStallLimit{2000};

class StdoutLines {
 public:
  // Widens stdout's pipe when it is one (widen_pipe, kStdoutPipeBytes).
  // kDrop for the daemon and watch (their policy's actions must never wait on stdout); kWait
  // for trace (common/backlog_writer.h).
  explicit StdoutLines(size_t max_backlog_bytes = kDefaultStdoutBacklogBytes,
                       common::BacklogWriter::WhenFull when_full =
                           common::BacklogWriter::WhenFull::kDrop);

  std::string& buffer() { return buffer_; }
  // Hands what is buffered to stdout: written, queued behind a slow reader, or (past the
  // backlog's cap) dropped and counted, with one warning the first time. False when stdout is
  // gone (its reader exited), which ends the run.
  bool flush();
  // flush() once the buffer holds kStdoutBatchBytes; a failure shows at the round's flush().
  void flush_if_full() {
    if (buffer_.size() >= kStdoutBatchBytes) flush();
  }
  // flush(), then waits until the backlog is written (at most kStdoutStallLimit without
  // progress) and warns about what was dropped. False when stdout is gone or stalled.
  bool finish();
  common::BacklogStats stats() const { return writer_.stats(); }
  size_t backlog_bytes() const { return writer_.backlog_bytes(); }

 private:
  std::string buffer_;
  size_t max_backlog_;
  common::BacklogWriter writer_;
  bool warned_ = false;
};

}  // namespace llmtap::cli
