// The capabilities llmtap names at start: what is missing from an effective set, and how it is
// said.
#include "capture/agent_capabilities.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace llmtap::capture {
namespace {

uint64_t bit(int capability) { return uint64_t{1} << capability; }

uint64_t all_used() {
  uint64_t set = 0;
  for (const CapabilityUse& use : agent_capability_uses()) set |= bit(use.capability);
  return set;
}

std::vector<std::string_view> names(const std::vector<const CapabilityUse*>& uses) {
  std::vector<std::string_view> out;
  for (const CapabilityUse* u : uses) out.push_back(u->name);
  return out;
}

TEST(AgentCapabilities, TheDaemonSetsNineAreAllUsedAndEnough) {
  EXPECT_EQ(agent_capability_uses().size(), 9u);
  const CapabilityCheck full = check_capabilities(all_used(), true);
  EXPECT_TRUE(full.missing_required.empty());
  EXPECT_TRUE(full.missing_optional.empty());
  EXPECT_TRUE(check_capabilities(~uint64_t{0}, true).missing_optional.empty()) << "root";
}

TEST(AgentCapabilities, SysAdminStandsInForBpfAndPerfmon) {
  const CapabilityCheck old_kernel = check_capabilities(all_used() & ~bit(39) & ~bit(38), true);
  EXPECT_TRUE(old_kernel.missing_required.empty());
  EXPECT_TRUE(old_kernel.missing_optional.empty());
  const CapabilityCheck no_admin = check_capabilities(all_used() & ~bit(39) & ~bit(21), true);
  EXPECT_EQ(names(no_admin.missing_required), std::vector<std::string_view>{"CAP_BPF"});
  EXPECT_EQ(names(no_admin.missing_optional), std::vector<std::string_view>{"CAP_SYS_ADMIN"});
}

TEST(AgentCapabilities, MissingOnesAreNamedWithWhatTheyAreFor) {
  const CapabilityCheck minimal = check_capabilities(bit(39) | bit(38), true);
  EXPECT_TRUE(minimal.missing_required.empty());
  EXPECT_EQ(names(minimal.missing_optional),
            (std::vector<std::string_view>{"CAP_SYS_ADMIN", "CAP_SYS_PTRACE",
                                           "CAP_DAC_READ_SEARCH", "CAP_KILL", "CAP_NET_ADMIN",
                                           "CAP_SYS_RESOURCE", "CAP_SYS_NICE"}));
  const CapabilityCheck none = check_capabilities(0, true);
  EXPECT_EQ(names(none.missing_required),
            (std::vector<std::string_view>{"CAP_BPF", "CAP_PERFMON"}));
  const CapabilityCheck no_kill = check_capabilities(all_used() & ~bit(5) & ~bit(12), true);
  EXPECT_EQ(describe_missing(no_kill.missing_optional),
            "CAP_KILL (resume processes llmtap held; kill-process actions), CAP_NET_ADMIN "
            "(destroy sockets for kill-connection and hold actions)");
  EXPECT_EQ(describe_missing({}), "");
  // Where BPF memory is not charged to RLIMIT_MEMLOCK (5.11+), CAP_SYS_RESOURCE is not needed.
  EXPECT_TRUE(check_capabilities(all_used() & ~bit(24), false).missing_optional.empty());
  EXPECT_EQ(names(check_capabilities(all_used() & ~bit(24), true).missing_optional),
            std::vector<std::string_view>{"CAP_SYS_RESOURCE"});
}

// The effective set as capget(2) gives it matches what the kernel shows in /proc/self/status
// (this machine's root lacks CAP_SYS_RESOURCE, which its 6.18 kernel does not need).
TEST(AgentCapabilities, TheEffectiveSetIsTheKernels) {
  std::ifstream status("/proc/self/status");
  uint64_t cap_eff = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("CapEff:", 0) == 0) cap_eff = std::stoull(line.substr(7), nullptr, 16);
  }
  EXPECT_EQ(effective_capabilities(), cap_eff);
  const CapabilityCheck mine =
      check_capabilities(effective_capabilities(), kernel_charges_bpf_to_memlock());
  for (const CapabilityUse* missing : mine.missing_optional) {
    EXPECT_EQ((cap_eff >> missing->capability) & 1, 0u) << missing->name;
  }
  if (geteuid() == 0) EXPECT_TRUE(mine.missing_required.empty());
}

}  // namespace
}  // namespace llmtap::capture
