#include "cli/stdout_lines.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace llmtap::cli {

namespace {

int pipe_max_size() {
  std::ifstream in("/proc/sys/fs/pipe-max-size");
  long value = 0;
  if (!(in >> value) || value <= 0) return kStdoutPipeBytes;
  return value > (1L << 30) ? (1 << 30) : static_cast<int>(value);
}

}  // namespace

int widen_pipe(int fd, int bytes) {
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return 0;
  const int now = fcntl(fd, F_GETPIPE_SZ);
  if (now < 0) return 0;
  const int max = pipe_max_size();
  const int want = bytes < max ? bytes : max;
  if (now >= want) return now;
  const int got = fcntl(fd, F_SETPIPE_SZ, want);
  return got > 0 ? got : now;
}

StdoutLines::StdoutLines() { widen_pipe(STDOUT_FILENO, kStdoutPipeBytes); }

bool StdoutLines::flush() {
  if (buffer_.empty()) return true;
  const bool ok = std::fwrite(buffer_.data(), 1, buffer_.size(), stdout) == buffer_.size() &&
                  std::fflush(stdout) == 0;
  buffer_.clear();
  return ok;
}

}  // namespace llmtap::cli
