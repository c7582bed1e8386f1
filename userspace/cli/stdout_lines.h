#pragma once
// Batches output lines and writes them to stdout once per poll round.

#include <string>

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

class StdoutLines {
 public:
  // Widens stdout's pipe when it is one (widen_pipe, kStdoutPipeBytes).
  StdoutLines();

  std::string& buffer() { return buffer_; }
  // Writes what is buffered; false when stdout is gone (reader exited), which ends the run.
  bool flush();

 private:
  std::string buffer_;
};

}  // namespace llmtap::cli
