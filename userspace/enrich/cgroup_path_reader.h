#pragma once
// The cgroup v2 path of a cgroup id (what bpf_get_current_cgroup_id() gives the capture), by
// file handle: a cgroup's id is its kernfs node id, which open_by_handle_at() takes on the
// cgroup2 mount (needs CAP_DAC_READ_SEARCH). Without that capability it walks the hierarchy
// once per unknown id, comparing inode numbers (the same id on 64-bit kernels).

#include <cstdint>
#include <optional>
#include <string>

namespace llmtap::enrich {

class CgroupPathReader {
 public:
  // `v2_root`: the cgroup2 mount; "" finds it in /proc/self/mountinfo.
  explicit CgroupPathReader(std::string v2_root = "");
  ~CgroupPathReader();
  CgroupPathReader(const CgroupPathReader&) = delete;
  CgroupPathReader& operator=(const CgroupPathReader&) = delete;

  // "/kubepods.slice/..." relative to the v2 root ("/" for the root); nullopt when the id is
  // unknown (the cgroup is gone) or there is no cgroup2 mount.
  std::optional<std::string> path_of(uint64_t cgroup_id);

  const std::string& v2_root() const { return root_; }
  // cgroup v1 controller hierarchies are mounted (a hybrid or legacy host): containers may
  // then be told only by the v1 paths in /proc/PID/cgroup.
  bool has_v1_hierarchies() const { return has_v1_; }

 private:
  std::optional<std::string> path_by_handle(uint64_t cgroup_id);
  std::optional<std::string> path_by_walk(uint64_t cgroup_id) const;

  std::string root_;
  int root_fd_ = -1;
  bool handles_work_ = true;  // until open_by_handle_at says otherwise (EPERM, ENOSYS)
  bool has_v1_ = false;
};

// The id of the cgroup v2 cgroup process `pid` is in now (what the capture would record for
// it): the inode of its directory on the cgroup2 mount. nullopt when the process is gone or
// there is no cgroup2 mount.
std::optional<uint64_t> cgroup_id_of_process(uint32_t pid, const std::string& proc_root = "/proc");

}  // namespace llmtap::enrich
