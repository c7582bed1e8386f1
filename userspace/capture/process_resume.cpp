#include "capture/process_resume.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fcntl.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <string>

namespace llmtap::capture {
namespace {

class PidFd {
 public:
  explicit PidFd(pid_t pid) : fd_(static_cast<int>(syscall(SYS_pidfd_open, pid, 0))) {}
  ~PidFd() {
    if (fd_ >= 0) close(fd_);
  }
  PidFd(const PidFd&) = delete;
  PidFd& operator=(const PidFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::optional<uint64_t> stat_text_field(std::string_view text, int n) {
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count from the last
  // ')', after which comes field 3.
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos || n < 3) return std::nullopt;
  std::string_view rest = text.substr(close + 1);
  const auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  std::string_view field;
  for (int i = 3; i <= n; ++i) {
    size_t at = 0;
    while (at < rest.size() && blank(rest[at])) ++at;
    size_t end = at;
    while (end < rest.size() && !blank(rest[end])) ++end;
    if (end == at) return std::nullopt;
    field = rest.substr(at, end - at);
    rest.remove_prefix(end);
  }
  try {
    size_t used = 0;
    const std::string token(field);
    const uint64_t value = std::stoull(token, &used);
    return used == token.size() ? std::optional<uint64_t>(value) : std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<uint64_t> process_stat_field(pid_t pid, int n) {
  return ProcStatFile(pid).field(n);
}

ProcStatFile::ProcStatFile(pid_t pid)
    : fd_(::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC)) {}

ProcStatFile::~ProcStatFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<uint64_t> ProcStatFile::field(int n) const {
  if (fd_ < 0) return std::nullopt;
  char text[4096];  // a stat line is a few hundred bytes (comm is at most 64)
  const ssize_t len = ::pread(fd_, text, sizeof(text), 0);
  if (len <= 0) return std::nullopt;
  return stat_text_field(std::string_view(text, static_cast<size_t>(len)), n);
}

std::optional<uint64_t> process_start_ticks(pid_t pid) { return process_stat_field(pid, 22); }

uint64_t boottime_ns_to_ticks(uint64_t ns) {
  static const uint64_t ns_per_tick =
      1'000'000'000ull / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
  return ns / ns_per_tick;
}

ResumeOutcome signal_process_started_at(pid_t pid, uint64_t start_ticks, int signal) {
  // Open first, then check: if the pid is reused after the check, the pidfd still names the
  // process that was checked (now dead), and the signal fails with ESRCH instead of landing.
  const PidFd pidfd(pid);
  if (pidfd.get() < 0) return errno == ESRCH ? ResumeOutcome::kGone : ResumeOutcome::kFailed;
  const auto started = process_start_ticks(pid);
  if (!started) return ResumeOutcome::kGone;
  if (*started != start_ticks) return ResumeOutcome::kNotOurs;
  if (syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) != 0) {
    if (errno == ESRCH) return ResumeOutcome::kGone;
    spdlog::error("cannot send signal {} to pid {}: {}", signal, pid, std::strerror(errno));
    return ResumeOutcome::kFailed;
  }
  return ResumeOutcome::kResumed;
}

ResumeOutcome resume_stopped_process(pid_t pid, uint64_t start_boottime_ns) {
  return signal_process_started_at(pid, boottime_ns_to_ticks(start_boottime_ns), SIGCONT);
}

}  // namespace llmtap::capture
