#include "capture/agent_capabilities.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>

namespace llmtap::capture {

const std::vector<CapabilityUse>& agent_capability_uses() {
  static const std::vector<CapabilityUse> kUses = {
      {39, "CAP_BPF", "load the BPF programs and maps", true},
      {38, "CAP_PERFMON", "attach uprobes and tracepoints", true},
      {21, "CAP_SYS_ADMIN",
       "mount tracefs and bpffs, pin holds so they outlive llmtap, enter a pod's network "
       "namespace",
       false},
      {19, "CAP_SYS_PTRACE", "read other processes' maps, executables and environments", false},
      {2, "CAP_DAC_READ_SEARCH",
       "open files through /proc/PID/root; name cgroups by file handle", false},
      {5, "CAP_KILL", "resume processes llmtap held; kill-process actions", false},
      {12, "CAP_NET_ADMIN", "destroy sockets for kill-connection and hold actions", false},
      {24, "CAP_SYS_RESOURCE", "raise RLIMIT_MEMLOCK on kernels that charge BPF maps to it",
       false},
      {23, "CAP_SYS_NICE", "run ahead of the workloads while enforcing (nice -10)", false},
  };
  return kUses;
}

uint64_t effective_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return 0;
  return static_cast<uint64_t>(data[0].effective) |
         (static_cast<uint64_t>(data[1].effective) << 32);
}

bool kernel_charges_bpf_to_memlock() {
  struct utsname u{};
  int major = 0, minor = 0;
  if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return true;
  return major < 5 || (major == 5 && minor < 11);
}

CapabilityCheck check_capabilities(uint64_t effective, bool memlock_charged) {
  constexpr int kSysAdmin = 21;
  constexpr int kSysResource = 24;
  const bool sys_admin = (effective >> kSysAdmin) & 1;
  CapabilityCheck check;
  for (const CapabilityUse& use : agent_capability_uses()) {
    if ((effective >> use.capability) & 1) continue;
    if (use.required && sys_admin) continue;
    if (use.capability == kSysResource && !memlock_charged) continue;
    (use.required ? check.missing_required : check.missing_optional).push_back(&use);
  }
  return check;
}

std::string describe_missing(const std::vector<const CapabilityUse*>& missing) {
  std::string text;
  for (const CapabilityUse* use : missing) {
    if (!text.empty()) text += ", ";
    text += std::string(use->name) + " (" + std::string(use->for_what) + ")";
  }
  return text;
}

}  // namespace llmtap::capture
