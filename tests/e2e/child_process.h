#pragma once
// A child process for end-to-end tests: spawned suspended (so its pid is known before it
// runs, e.g. for `llmtap trace --pid`), then released; stdout captured.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llmtap::e2e {

struct ChildResult {
  int exit_code = -1;  // or 128 + signal
  std::string out;
  std::string err;
};

class ChildProcess {
 public:
  // Forks; the child waits for release() before exec'ing argv[0] (searched in PATH). Its stdout
  // goes to out_path(), or to `stdout_fd` when one is given (e.g. a pipe the test reads).
  explicit ChildProcess(std::vector<std::string> argv, int stdout_fd = -1);
  ~ChildProcess();  // kills the child if it still runs
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void release();
  // Waits for exit (killing it after `timeout`) and returns its status and output.
  ChildResult wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Its exit code if it has exited (reaping it), without waiting.
  std::optional<int> poll_exit();
  // Sends `signal`, waits up to `grace`, then SIGKILL; returns the exit code.
  int stop(int signal, std::chrono::milliseconds grace);

  // Where its stdout and stderr go, readable while it runs.
  const std::string& out_path() const { return out_path_; }
  const std::string& err_path() const { return err_path_; }
  // Leave the output files behind (for debugging a test).
  void keep_output_files() { keep_output_ = true; }

 private:
  // Reaps the child, killing it if it has not exited within `timeout`; returns the exit code.
  int reap_within(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int release_fd_ = -1;
  std::string out_path_;
  std::string err_path_;
  std::optional<int> exit_code_;  // once reaped
  bool keep_output_ = false;
};

// Spawns, releases and waits: for clients whose pid needs no filter.
ChildResult run_child(const std::vector<std::string>& argv, pid_t* pid_out = nullptr,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60));

std::string read_file(const std::string& path);

// Times the process's main thread was switched to (voluntary + involuntary context switches):
// a thread that sleeps in poll() with a timeout adds one per timeout.
uint64_t context_switches(pid_t pid);

}  // namespace llmtap::e2e
