#pragma once
// Runs the real `llmtap trace` binary for a test and reads back its JSON lines and summary.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "child_process.h"

namespace llmtap::e2e {

struct TraceEvent {
  nlohmann::json json;
  uint32_t pid = 0;
  std::string comm;
  std::string direction;
  std::string src;  // "" when null
  std::string dst;
  uint64_t len = 0;
  bool truncated = false;
  uint64_t lost = 0;
  std::string data;  // decoded
};

// key=value pairs of the "summary:" line llmtap prints on stderr at exit.
using TraceSummary = std::map<std::string, uint64_t>;

class TraceSession {
 public:
  // Starts `llmtap COMMAND ARGS...` (trace, daemon, watch); returns once it reports ready.
  // stdout goes to a file the accessors below read, or to `stdout_fd` (they then see nothing).
  // Throws std::runtime_error with llmtap's stderr when it fails to start.
  explicit TraceSession(const std::vector<std::string>& args,
                        std::chrono::milliseconds ready_timeout = std::chrono::seconds(30),
                        const std::vector<std::string>& global_args = {},
                        const std::string& command = "trace", int stdout_fd = -1);
  ~TraceSession();
  TraceSession(const TraceSession&) = delete;
  TraceSession& operator=(const TraceSession&) = delete;

  // Every complete `tls` event written so far.
  std::vector<TraceEvent> events() const;
  // Every complete `tls_close` event written so far.
  std::vector<nlohmann::json> closes() const;
  std::vector<TraceEvent> events_for(pid_t pid) const;
  // Polls events_for(pid) until `total_bytes` of data (writes + reads) arrived or timeout.
  std::vector<TraceEvent> wait_for_bytes(pid_t pid, uint64_t total_bytes,
                                         std::chrono::milliseconds timeout =
                                             std::chrono::seconds(10)) const;

  // Every complete JSON line written so far (daemon: OCSF events).
  std::vector<nlohmann::json> json_lines() const;
  // stdout as text (watch).
  std::string stdout_text() const;

  // SIGINT, wait for exit; returns the key=value pairs of every "summary:" line on stderr.
  // exit_code() is valid afterwards.
  TraceSummary stop();
  int exit_code() const { return exit_code_; }
  std::string stderr_text() const;
  pid_t pid() const { return process_->pid(); }

 private:
  std::unique_ptr<ChildProcess> process_;  // llmtap trace; stdout and stderr go to files
  int exit_code_ = -1;
};

// A pipe for a session's stdout (TraceSession's `stdout_fd`): the session gets write_fd(), and
// the test closes it with close_write() once the session holds its own copy; the test reads
// read_fd(), or leaves it unread. Whatever is still open is closed when it goes.
class StdoutPipe {
 public:
  StdoutPipe();  // throws std::system_error
  ~StdoutPipe();
  StdoutPipe(const StdoutPipe&) = delete;
  StdoutPipe& operator=(const StdoutPipe&) = delete;

  int read_fd() const { return fds_[0]; }
  int write_fd() const { return fds_[1]; }
  void close_write();

 private:
  int fds_[2] = {-1, -1};
};

// The `tls` events among JSON lines (trace's stdout); a last line without its newline is left out.
std::vector<TraceEvent> tls_events_in(const std::string& json_lines);

// The path of the llmtap binary under test.
std::string llmtap_binary();

// Concatenated data of `events` in `direction` ("write"/"read"), optionally only those whose
// conn.src is `src`.
std::string concat_data(const std::vector<TraceEvent>& events, const std::string& direction,
                        const std::string& src = "");

}  // namespace llmtap::e2e
