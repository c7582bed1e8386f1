#pragma once
// Resumes a process llmtap stopped, and only that one: through a pidfd, after checking that
// the process now at that pid started when the stopped one did, so a reused pid is never sent
// a signal.

#include <sys/types.h>

#include <cstdint>
#include <optional>

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
