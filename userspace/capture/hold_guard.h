#pragma once
// The hold guard: a small process of its own (`llmtap hold-guard`, in its own session, deaf to
// SIGINT/SIGTERM/SIGHUP) that llmtap starts before it may stop anyone. Working on llmtap's
// pinned `holds` map and hold switch, it
//   - resumes every hold older than the deadline, whatever state llmtap is in (stalled on a
//     full pipe, stopped in a debugger, busy), and
//   - when llmtap is gone, however it went (exit, crash, SIGKILL), switches holds off, waits
//     for any hold program still running, resumes every process left, removes the pins, exits.
// docs/hold-safety.md gives the whole argument.

#include <sys/types.h>

#include <chrono>
#include <string>

namespace llmtap::capture {

struct HoldGuardOptions {
  std::string pin_dir;  // HoldPins::dir() of the agent
  pid_t agent_pid = 0;
  std::chrono::milliseconds deadline{500};
  int ready_fd = -1;  // written once the guard works; -1: none
  int agent_fd = -1;  // read end of a pipe the agent holds open; EOF: the agent is done
};

// The guard's main loop; returns its exit status.
int run_hold_guard(const HoldGuardOptions& options);

// The agent's handle on its guard: starts it (and waits until it works) and, when destroyed,
// tells it the agent is done and reaps it.
class HoldGuardProcess {
 public:
  // Throws CaptureError when the guard cannot be started.
  HoldGuardProcess(const std::string& pin_dir, std::chrono::milliseconds deadline);
  ~HoldGuardProcess();
  HoldGuardProcess(const HoldGuardProcess&) = delete;
  HoldGuardProcess& operator=(const HoldGuardProcess&) = delete;

  bool alive();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int agent_fd_ = -1;  // write end: closing it (or dying) tells the guard
};

}  // namespace llmtap::capture
