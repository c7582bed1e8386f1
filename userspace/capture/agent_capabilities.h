#pragma once
// Which capabilities llmtap uses, what for, and which of them this process lacks: named at
// start, so that an agent run with fewer (a DaemonSet's list cut down, a setcap'd binary)
// says what will not work instead of failing later. The DaemonSet grants exactly these.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::capture {

struct CapabilityUse {
  int capability;         // CAP_* number
  std::string_view name;  // "CAP_BPF"
  std::string_view for_what;
  bool required;  // capture cannot start without it (CAP_SYS_ADMIN stands in for these)
};

// Every capability llmtap uses, in the order docs/deploy.md lists them.
const std::vector<CapabilityUse>& agent_capability_uses();

// The effective set of this process (bit N: capability N).
uint64_t effective_capabilities();

struct CapabilityCheck {
  std::vector<const CapabilityUse*> missing_required;
  std::vector<const CapabilityUse*> missing_optional;
};

// What `effective` lacks. CAP_SYS_ADMIN covers the required CAP_BPF and CAP_PERFMON (kernels
// before 5.8 know only it). CAP_SYS_RESOURCE only counts where BPF memory is charged to
// RLIMIT_MEMLOCK (`memlock_charged`: kernels before 5.11).
CapabilityCheck check_capabilities(uint64_t effective, bool memlock_charged);

// Whether this kernel charges BPF maps to RLIMIT_MEMLOCK (before 5.11; cgroup accounting since).
bool kernel_charges_bpf_to_memlock();

// "CAP_KILL (resume processes llmtap held; kill-process actions), ..."; "" when none.
std::string describe_missing(const std::vector<const CapabilityUse*>& missing);

}  // namespace llmtap::capture
