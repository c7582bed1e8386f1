#pragma once
// Process identity for records: executable path and command line from /proc, read once per
// process and kept until the process exits. The capture stage already gives pid, uid, comm
// and cgroup with every call; this adds what only /proc knows.

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "llm/llm_call.h"

namespace llmtap::enrich {

class WorkloadResolver;

class ProcessIdentityCache {
 public:
  // proc_root: "/proc" normally; tests point it at a fake tree.
  explicit ProcessIdentityCache(std::string proc_root = "/proc", size_t max_entries = 16384,
                                size_t max_cmdline_bytes = 1024);

  // The identity of `pid`, filling exe and cmdline from /proc on first sight. Fields the
  // caller already knows (uid, comm, cgroup) come from the capture and are not read here.
  const llm::ProcessIdentity& lookup(uint32_t pid, uint32_t uid, uint64_t cgroup_id,
                                     std::string_view comm);
  void forget(uint32_t pid);  // the process exited (its pid may be reused)

  // Containers and pods: every lookup then names the process's workload (null: none).
  void set_workload_resolver(WorkloadResolver* workloads) { workloads_ = workloads; }

  size_t size() const { return entries_.size(); }
  uint64_t proc_reads() const { return proc_reads_; }
  uint64_t evictions() const { return evictions_; }

 private:
  std::string read_exe(uint32_t pid) const;
  std::string read_cmdline(uint32_t pid) const;

  std::string proc_root_;
  size_t max_entries_;
  size_t max_cmdline_bytes_;
  std::unordered_map<uint32_t, llm::ProcessIdentity> entries_;
  WorkloadResolver* workloads_ = nullptr;
  uint64_t proc_reads_ = 0;
  uint64_t evictions_ = 0;
};

}  // namespace llmtap::enrich
