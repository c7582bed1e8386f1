#pragma once
// Test leftovers (rootfs trees, cgroups) are named "<prefix><pid>-...": one whose owner is
// dead was left by a test killed before its destructors ran, and may be removed.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace llmtap::e2e {

// The <pid> of a "<prefix><pid>-..." name.
std::optional<pid_t> owner_pid(const std::string& name, std::string_view prefix);

// Alive and not a zombie: orphans' reaper (pid 1) may take seconds to collect one.
bool process_alive(pid_t pid);

}  // namespace llmtap::e2e
