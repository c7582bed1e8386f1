#pragma once
// Who a process is beyond its pid: the container (from its cgroup) and, in a cluster, the pod
// (from the pod directory). Resolved once per cgroup and cached; a cached answer is looked at
// again only when the pod directory changed. On hosts that still mount cgroup v1 hierarchies,
// a process whose v2 cgroup names no container is looked up once in /proc/PID/cgroup.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "enrich/container_cgroup_path.h"
#include "enrich/pod_directory.h"
#include "llm/llm_call.h"

namespace llmtap::enrich {

struct WorkloadResolverStats {
  uint64_t cgroups_resolved = 0;    // cgroup ids looked up (cache misses)
  uint64_t cgroups_unknown = 0;     // ids with no path (the cgroup was gone)
  uint64_t proc_cgroup_reads = 0;   // /proc/PID/cgroup reads (v1 hierarchies)
  uint64_t pod_refreshes = 0;       // cached answers looked at again after a pod change
  uint64_t evictions = 0;
};

class WorkloadResolver {
 public:
  using PathOf = std::function<std::optional<std::string>(uint64_t cgroup_id)>;
  using ProcCgroup = std::function<std::string(uint32_t pid)>;  // /proc/PID/cgroup's text

  // `pods` may be null (no cluster). `proc_cgroup` may be empty (a pure v2 host).
  WorkloadResolver(PathOf path_of, ProcCgroup proc_cgroup, const PodDirectory* pods,
                   size_t max_entries = 16384);

  // Null for a host process. Cheap when cached: one hash lookup and a generation compare.
  std::shared_ptr<const llm::WorkloadIdentity> resolve(uint32_t pid, uint64_t cgroup_id);
  void forget(uint32_t pid);

  // The workload is a pod's container and a pod directory exists, but the pod is not (yet)
  // known: a record about it may wait a moment for the watch to catch up.
  bool pod_pending(const llm::WorkloadIdentity& w) const {
    return pods_ != nullptr && !w.pod_uid.empty() && !w.pod_known();
  }
  // A new identity made from the pod directory when it knows `w`'s pod now; `w` itself when
  // it does not.
  std::shared_ptr<const llm::WorkloadIdentity> refreshed(
      const std::shared_ptr<const llm::WorkloadIdentity>& w);
  const WorkloadResolverStats& stats() const { return stats_; }
  size_t cached() const { return by_cgroup_.size() + by_pid_.size(); }

 private:
  struct Cached {
    std::optional<CgroupContainer> container;
    uint64_t cgroup_id = 0;  // by_pid_: the v2 cgroup it was read in (a move reads again)
    uint64_t generation = 0;
    std::shared_ptr<const PodRecord> pod;  // what `identity` was made from
    const PodContainer* pod_container = nullptr;
    std::shared_ptr<const llm::WorkloadIdentity> identity;
  };
  Cached from_container(std::optional<CgroupContainer> container);
  void refresh(Cached& c);
  const std::shared_ptr<const llm::WorkloadIdentity>& current(Cached& c);

  PathOf path_of_;
  ProcCgroup proc_cgroup_;
  const PodDirectory* pods_;
  size_t max_entries_;
  std::unordered_map<uint64_t, Cached> by_cgroup_;
  std::unordered_map<uint32_t, Cached> by_pid_;  // v1 answers: per process
  WorkloadResolverStats stats_;
};

// The first container any line of a /proc/PID/cgroup text names ("ID:controllers:path").
std::optional<CgroupContainer> container_from_proc_cgroup(std::string_view text);

// A resolver reading this host's cgroup mounts and /proc.
std::unique_ptr<WorkloadResolver> make_host_workload_resolver(const PodDirectory* pods,
                                                              const std::string& proc_root =
                                                                  "/proc");

}  // namespace llmtap::enrich
