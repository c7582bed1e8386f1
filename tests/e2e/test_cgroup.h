#pragma once
// A real cgroup v2 directory for end-to-end tests (e.g. a kubelet-shaped pod/container path),
// removed again with everything it created, whatever the test did with it.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace llmtap::e2e {

class TestCgroup {
 public:
  // Creates `<v2 root>/llmtap-test-<pid>-<counter>` (after remove_stale()) and, if `nested` is
  // given (a relative path such as
  // "kubepods.slice/kubepods-besteffort.slice/cri-containerd-abc.scope"), every directory of it
  // below that. The v2 root is /sys/fs/cgroup/unified on hybrid hosts, else /sys/fs/cgroup; it must
  // be cgroup2 (checked by file-system magic). Throws std::invalid_argument for a bad `nested`,
  // std::runtime_error (system_error) otherwise, leaving nothing behind.
  explicit TestCgroup(const std::string& nested = "");
  // Moves every process still inside any created directory to the root cgroup, then removes
  // the directories, deepest first. Never throws; reports leftovers on stderr.
  ~TestCgroup();

  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;

  // The leaf directory (host path).
  const std::string& path() const { return created_.back(); }
  // The leaf as the kernel names it relative to the v2 root, e.g. "/llmtap-test-12-0/a.slice";
  // this is what /proc/<pid>/cgroup shows on its "0::" line.
  std::string relative_path() const;
  // The cgroup v2 id, i.e. what bpf_get_current_cgroup_id() returns for a member task: the
  // leaf's inode number (kernfs uses the cgroup id as inode number on 64-bit kernels).
  uint64_t id() const { return id_; }
  // Moves process `pid` (all its threads) into the leaf. Throws std::system_error on failure.
  void add_process(pid_t pid) const;

  // Removes what test processes killed before their destructors ran left behind: every
  // llmtap-test-<pid>-* tree whose <pid> no longer exists (evacuating it first). The
  // constructor calls it. Errors are reported on stderr only.
  static void remove_stale() noexcept;

  // The mount point of the cgroup v2 hierarchy. Throws std::runtime_error if there is none.
  static std::string hierarchy_root();

 private:
  void remove_created() noexcept;

  std::string root_;
  std::vector<std::string> created_;  // outermost first; the leaf last
  uint64_t id_ = 0;
};

}  // namespace llmtap::e2e
