#pragma once
// Resumes a process llmtap stopped, and only that one: through a pidfd, after checking that
// the process now at that pid started when the stopped one did, so a reused pid is never sent
// a signal.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace llmtap::capture {

enum class ResumeOutcome {
  kResumed,  // SIGCONT sent to the very process that was stopped
  kGone,     // it exited (or was killed) meanwhile: nothing to resume
  kNotOurs,  // the pid now names another process: left alone
  kFailed,   // the signal could not be sent (errno logged)
};

// Field `n` (1-based, as proc(5) numbers them; 3 or later) of /proc/PID/stat as a number:
// nullopt when the process is gone or the field is not a number.
std::optional<uint64_t> process_stat_field(pid_t pid, int n);
// The same field read from the text of a /proc/PID/stat.
std::optional<uint64_t> stat_text_field(std::string_view stat_text, int n);

// /proc/PID/stat kept open, for a field read again and again (the hold guard watches the
// agent many times a second): no path lookup or open per read, and a reused pid cannot be
// mistaken for the process opened (its reads then fail, as for a process that is gone).
class ProcStatFile {
 public:
  explicit ProcStatFile(pid_t pid);
  ~ProcStatFile();
  ProcStatFile(const ProcStatFile&) = delete;
  ProcStatFile& operator=(const ProcStatFile&) = delete;
  // As process_stat_field: nullopt when the process is gone or the field is not a number.
  std::optional<uint64_t> field(int n) const;

 private:
  int fd_ = -1;
};

// The process's start time as the kernel keeps it (the group leader's start_boottime, ns),
// from /proc/PID/stat, in whole clock ticks: nullopt when the process is gone.
std::optional<uint64_t> process_start_ticks(pid_t pid);
// start_boottime (ns) in the clock ticks /proc shows.
uint64_t boottime_ns_to_ticks(uint64_t ns);

// Sends SIGCONT to `pid` if it is the process that started at `start_boottime_ns`.
ResumeOutcome resume_stopped_process(pid_t pid, uint64_t start_boottime_ns);

// Sends `signal` to `pid` if it is the process whose /proc/PID/stat start time (field 22,
// clock ticks) is `start_ticks`; the same pidfd-then-check order as the resume.
ResumeOutcome signal_process_started_at(pid_t pid, uint64_t start_ticks, int signal);

}  // namespace llmtap::capture
