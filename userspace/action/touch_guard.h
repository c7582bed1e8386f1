#pragma once
// Who llmtap must never stop or kill, whatever a policy says: itself (and its hold guard),
// pid 1, kernel threads, and a never-touch list of command names and executable paths (globs)
// whose loss would take the node down with the offender: container runtimes, the kubelet,
// sshd, systemd. The list's defaults can be extended (--never-touch) but not emptied.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace llmtap::action {

// The defaults: containerd, containerd-shim*, dockerd, docker-proxy, runc, crun, crio,
// conmon, kubelet, kube-proxy, sshd, systemd, systemd-*, init, llmtap, and /usr/bin/llmtap*.
const std::vector<std::string>& default_never_touch();

class TouchGuard {
 public:
  explicit TouchGuard(std::vector<std::string> extra_never_touch = {},
                      std::string proc_root = "/proc");

  // Why the process may not be touched, or nullopt when it may. `comm` and `exe` as the
  // capture saw them (exe empty when unknown; /proc is read when both are empty).
  std::optional<std::string> refusal(pid_t pid, const std::string& comm,
                                     const std::string& exe) const;

 private:
  std::vector<std::string> never_touch_;
  std::string proc_root_;
};

}  // namespace llmtap::action
