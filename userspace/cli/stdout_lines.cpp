#include "cli/stdout_lines.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

#include "common/file_prefix.h"

namespace llmtap::cli {

namespace {

int pipe_max_size() {
  const std::optional<std::string> text = read_file_prefix("/proc/sys/fs/pipe-max-size", 32);
  long value = 0;
  if (!text ||
      std::from_chars(text->data(), text->data() + text->size(), value).ec != std::errc{} ||
      value <= 0) {
    return kStdoutPipeBytes;
  }
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
