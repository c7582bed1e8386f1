#include "cli/stdout_lines.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <charconv>

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

namespace {

int widened_stdout() {
  widen_pipe(STDOUT_FILENO, kStdoutPipeBytes);  // before the writer reads the pipe's size
  return STDOUT_FILENO;
}

}  // namespace

StdoutLines::StdoutLines(size_t max_backlog_bytes, common::BacklogWriter::WhenFull when_full)
    : max_backlog_(max_backlog_bytes), writer_(widened_stdout(), max_backlog_bytes, when_full) {}

bool StdoutLines::flush() {
  if (buffer_.empty()) return true;
  const bool ok = writer_.submit(buffer_);
  if (!warned_ && ok && writer_.stats().dropped_batches > 0) {
    warned_ = true;
    spdlog::warn("stdout's reader is more than {} MiB behind: lines are dropped (counted) until "
                 "it catches up; raise --stdout-backlog to hold more",
                 max_backlog_ >> 20);
  }
  return ok;
}

bool StdoutLines::finish() {
  const bool flushed = flush();
  const bool drained = flushed && writer_.drain(kStdoutStallLimit);
  const common::BacklogStats s = writer_.stats();
  if (s.dropped_lines > 0) {
    spdlog::warn("stdout: {} lines ({} bytes) not written: its reader fell behind by more than "
                 "--stdout-backlog, stopped reading or exited",
                 s.dropped_lines, s.dropped_bytes);
  }
  return drained;
}

}  // namespace llmtap::cli
