#include "capture/host_requirements.h"

#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "capture/capture_error.h"

namespace llmtap::capture {
namespace {

#ifndef CAP_PERFMON
constexpr int CAP_PERFMON = 38;
#endif
#ifndef CAP_BPF
constexpr int CAP_BPF = 39;
#endif

bool has_effective_capability(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

bool tracefs_reachable() {
  return std::filesystem::exists("/sys/kernel/tracing/events/syscalls") ||
         std::filesystem::exists("/sys/kernel/debug/tracing/events/syscalls");
}

}  // namespace

void check_bpf_privileges() {
  if (has_effective_capability(CAP_SYS_ADMIN)) return;
  std::vector<std::string> missing;
  if (!has_effective_capability(CAP_BPF)) missing.emplace_back("CAP_BPF");
  if (!has_effective_capability(CAP_PERFMON)) missing.emplace_back("CAP_PERFMON");
  if (missing.empty()) return;
  std::string names;
  for (const auto& m : missing) names += (names.empty() ? "" : " and ") + m;
  throw CaptureError("llmtap needs " + names +
                     " (or root) to load BPF programs and attach uprobes; run it as root or "
                     "grant them, e.g. setcap cap_bpf,cap_perfmon,cap_sys_admin+ep");
}

void check_kernel_btf(const std::string& path) {
  if (access(path.c_str(), R_OK) != 0) {
    throw CaptureError("kernel BTF not found at " + path +
                       ": llmtap needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8+)");
  }
}

bool ensure_tracefs_mounted() {
  if (tracefs_reachable()) return false;
  if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0) {
    throw CaptureError(std::string("tracefs is not mounted and mounting it at "
                                   "/sys/kernel/tracing failed: ") +
                       std::strerror(errno) +
                       " (needs CAP_SYS_ADMIN; or mount it: mount -t tracefs nodev "
                       "/sys/kernel/tracing)");
  }
  if (!tracefs_reachable()) {
    throw CaptureError(
        "tracefs is mounted but has no syscall events: the kernel lacks "
        "CONFIG_FTRACE_SYSCALLS");
  }
  return true;
}

}  // namespace llmtap::capture
