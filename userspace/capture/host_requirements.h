#pragma once
// What the host must offer before capture can start; each check throws CaptureError naming
// what is missing.

#include <string>

namespace llmtap::capture {

// CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) in the effective set.
void check_bpf_privileges();

// Kernel BTF, which CO-RE relocations need.
void check_kernel_btf(const std::string& path = "/sys/kernel/btf/vmlinux");

// Tracepoint attach reads event ids from tracefs: mounts it at /sys/kernel/tracing when no
// tracefs is reachable (needs CAP_SYS_ADMIN). Returns true when it mounted it.
bool ensure_tracefs_mounted();

}  // namespace llmtap::capture
