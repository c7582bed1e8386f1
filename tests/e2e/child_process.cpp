#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace llmtap::e2e {
namespace {

std::string temp_path(const char* tag) {
  char tmpl[] = "/tmp/llmtap-child-XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  close(fd);
  std::remove(tmpl);  // only its unique name is wanted
  return std::string(tmpl) + "." + tag;
}

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint64_t context_switches(pid_t pid) {
  const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  static const std::regex line("(?:^|\\n)(?:non)?voluntary_ctxt_switches:\\s*([0-9]+)");
  uint64_t total = 0;
  for (std::sregex_iterator it(status.begin(), status.end(), line), end; it != end; ++it) {
    total += std::stoull((*it)[1]);
  }
  return total;
}

ChildProcess::ChildProcess(std::vector<std::string> argv, int stdout_fd)
    : out_path_(temp_path("out")), err_path_(temp_path("err")) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    close(pipefd[1]);
    char go;
    if (read(pipefd[0], &go, 1) != 1) _exit(125);
    const int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(stdout_fd >= 0 ? stdout_fd : out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    const int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, STDIN_FILENO);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(pipefd[0]);
  release_fd_ = pipefd[1];
}

ChildProcess::~ChildProcess() {
  if (release_fd_ >= 0) close(release_fd_);
  if (!exit_code_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (keep_output_) return;
  std::remove(out_path_.c_str());
  std::remove(err_path_.c_str());
}

void ChildProcess::release() {
  if (release_fd_ < 0) return;
  const char go = 1;
  if (write(release_fd_, &go, 1) != 1) throw std::runtime_error("cannot release child");
  close(release_fd_);
  release_fd_ = -1;
}

std::optional<int> ChildProcess::poll_exit() {
  if (exit_code_) return exit_code_;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

int ChildProcess::reap_within(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!poll_exit()) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return *exit_code_;
}

int ChildProcess::stop(int signal, std::chrono::milliseconds grace) {
  if (!exit_code_) kill(pid_, signal);
  return reap_within(grace);
}

ChildResult ChildProcess::wait(std::chrono::milliseconds timeout) {
  release();
  ChildResult result;
  result.exit_code = reap_within(timeout);
  result.out = read_file(out_path_);
  result.err = read_file(err_path_);
  return result;
}

ChildResult run_child(const std::vector<std::string>& argv, pid_t* pid_out,
                      std::chrono::milliseconds timeout) {
  ChildProcess child(argv);
  if (pid_out != nullptr) *pid_out = child.pid();
  return child.wait(timeout);
}

}  // namespace llmtap::e2e
