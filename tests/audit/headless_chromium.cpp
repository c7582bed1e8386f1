#include "headless_chromium.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace llmtap::audit::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Live (not zombie) processes of process group `pgid`, or whose command line names `marker`
// (chromium helpers that left the group still carry the profile directory).
std::vector<pid_t> processes_of_run(pid_t pgid, const std::string& marker) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    if (pid == getpid()) continue;
    const std::string stat = slurp(entry.path() / "stat");
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    fields >> state >> ppid >> pgrp;
    if (state == 'Z' || state == 0) continue;
    std::string cmdline = slurp(entry.path() / "cmdline");
    if (pgrp == pgid || cmdline.find(marker) != std::string::npos) found.push_back(pid);
  }
  return found;
}

}  // namespace

std::string find_chromium() {
  if (const char* chosen = std::getenv("LLMTAP_CHROMIUM"); chosen != nullptr && *chosen) {
    return access(chosen, X_OK) == 0 ? chosen : "";
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    for (const char* name : {"chromium", "chromium-browser"}) {
      const std::string candidate = dir + "/" + name;
      if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return "";
}

ChromiumRun run_headless_chromium(const std::string& binary, const std::string& url,
                                  const std::vector<std::string>& args,
                                  const std::filesystem::path& work_dir,
                                  std::chrono::seconds limit) {
  ChromiumRun run;
  const std::filesystem::path profile = work_dir / "chromium-profile";
  const std::filesystem::path out_path = work_dir / "chromium.out";
  const std::filesystem::path log_path = work_dir / "chromium.log";
  std::vector<std::string> argv = {binary,
                                   "--headless=new",
                                   "--no-sandbox",  // as root: chromium refuses its sandbox
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--no-default-browser-check",
                                   "--disable-extensions",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--no-pings",
                                   "--mute-audio",
                                   "--hide-scrollbars",
                                   "--force-device-scale-factor=1",
                                   "--enable-logging=stderr",
                                   "--v=0",
                                   "--user-data-dir=" + profile.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  std::vector<char*> c_argv;
  for (std::string& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);

  const auto start = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    run.error = "fork failed";
    return run;
  }
  if (pid == 0) {
    setpgid(0, 0);  // its own group: the whole browser can be killed at once
    const int in = open("/dev/null", O_RDONLY);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || log < 0) _exit(126);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    execv(c_argv[0], c_argv.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also from here: no window where the group does not exist yet
  run.started = true;
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(status)) run.exit_status = WEXITSTATUS(status);
      break;
    }
    if (Clock::now() - start > limit) {
      run.timed_out = true;
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();

  // Its helpers (renderer, GPU, zygote) exit once the browser has: they get a few seconds,
  // and whatever of this run is still alive then was left behind: named, then killed.
  const std::string marker = profile.string();
  for (int i = 0; i < 250 && !processes_of_run(pid, marker).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const pid_t p : processes_of_run(pid, marker)) {
    std::string cmdline = slurp("/proc/" + std::to_string(p) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    run.leftovers.push_back(std::to_string(p) + " " + cmdline.substr(0, 160));
    kill(p, SIGKILL);
  }
  kill(-pid, SIGKILL);
  for (int i = 0; i < 100 && !processes_of_run(pid, marker).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  run.out = slurp(out_path);
  run.log = slurp(log_path);
  if (run.exit_status == 127 || run.exit_status == 126) run.error = "could not start " + binary;
  return run;
}

std::vector<std::string> console_messages(std::string_view log) {
  // "[pid:tid:MMDD/HHMMSS.uuuuuu:INFO:CONSOLE:12] "message", source: file:///... (12)"; older
  // chromium writes "INFO:CONSOLE(12)". Only the web console logs under that name.
  std::vector<std::string> messages;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    if (end == std::string_view::npos) end = log.size();
    const std::string_view line = log.substr(pos, end - pos);
    const size_t close = line.find(']');
    const bool console = line.starts_with("[") && close != std::string_view::npos &&
                         line.substr(0, close).find(":CONSOLE") != std::string_view::npos;
    if (console || line.find("Uncaught") != std::string_view::npos) {
      messages.emplace_back(line);
    }
    pos = end + 1;
  }
  return messages;
}

}  // namespace llmtap::audit::test
