#include "action/touch_guard.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "policy/glob.h"

namespace llmtap::action {
namespace {

constexpr unsigned long kPfKthread = 0x00200000;  // include/linux/sched.h

// Field `n` (1-based, 3 or later) of /proc/PID/stat.
std::optional<unsigned long> stat_field(const std::string& proc_root, pid_t pid, int n) {
  std::ifstream in(proc_root + "/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 1));
  std::string field;
  for (int i = 3; i <= n; ++i) {
    if (!(fields >> field)) return std::nullopt;
  }
  try {
    return std::stoul(field);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

const std::vector<std::string>& default_never_touch() {
  static const std::vector<std::string> list = {"containerd", "containerd-shim*",
                                                "dockerd",    "docker-proxy",
                                                "runc",       "crun",
                                                "crio",       "conmon",
                                                "kubelet",    "kube-proxy",
                                                "sshd",       "systemd",
                                                "systemd-*",  "init",
                                                "llmtap",     "/usr/bin/llmtap*"};
  return list;
}

TouchGuard::TouchGuard(std::vector<std::string> extra_never_touch, std::string proc_root)
    : never_touch_(default_never_touch()), proc_root_(std::move(proc_root)) {
  never_touch_.insert(never_touch_.end(), extra_never_touch.begin(), extra_never_touch.end());
}

std::optional<std::string> TouchGuard::refusal(pid_t pid, const std::string& comm,
                                               const std::string& exe) const {
  if (pid <= 0) return "no process named";
  if (pid == 1) return "pid 1 is never touched";
  if (pid == getpid()) return "llmtap never touches itself";
  const auto ppid = stat_field(proc_root_, pid, 4);
  const auto flags = stat_field(proc_root_, pid, 9);
  if (pid == 2 || (ppid && *ppid == 2) || (flags && (*flags & kPfKthread) != 0)) {
    return "kernel threads are never touched";
  }
  for (const std::string& pattern : never_touch_) {
    const bool is_path = pattern.find('/') != std::string::npos;
    const std::string& name = is_path ? exe : comm;
    if (!name.empty() && policy::glob_match(pattern, name)) {
      return "'" + name + "' is on the never-touch list (" + pattern + ")";
    }
  }
  return std::nullopt;
}

}  // namespace llmtap::action
