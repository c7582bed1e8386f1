#pragma once
// A throwaway container root filesystem for end-to-end tests: real copies (own inodes) of a few
// host programs and their shared libraries, entered through fresh mount + pid namespaces and a
// chroot. This is what a container runtime gives a process, minus the image format.

#include <string>
#include <vector>

namespace llmtap::e2e {

class ContainerRootfs {
 public:
  // Builds a minimal root filesystem in a fresh directory /tmp/llmtap-rootfs-<pid>-XXXXXX: each
  // program in `programs` (absolute host paths, e.g. /usr/bin/curl), every shared library `ldd`
  // lists for them and the dynamic loader, at the same paths as on the host. Symlinks met on
  // the way (/lib -> usr/lib, libfoo.so.1 -> libfoo.so.1.2.3, ...) are recreated as symlinks
  // and their targets copied. Every file is copied, never linked or mounted, so each has an inode
  // distinct from the host's. Also creates /tmp, /dev (with a best-effort null node), /etc (with
  // /etc/ssl/openssl.cnf if the host has it), an empty /proc, and /.oldroot plus a copy of the
  // host's umount (and its libraries) for RootSwitch::kPivotRoot.
  // Calls remove_stale() first. Throws std::runtime_error (the partial tree removed) on failure.
  explicit ContainerRootfs(const std::vector<std::string>& programs);
  // Unmounts anything still mounted inside, then removes the tree without crossing into other
  // file systems or following symlinks.
  ~ContainerRootfs();

  ContainerRootfs(const ContainerRootfs&) = delete;
  ContainerRootfs& operator=(const ContainerRootfs&) = delete;

  const std::string& path() const { return path_; }

  // Removes what test processes killed before their destructors ran left behind: every
  // /tmp/llmtap-rootfs-<pid>-* whose <pid> no longer exists. Errors go to stderr only.
  static void remove_stale() noexcept;

  // Host path of a file inside the rootfs, e.g.
  // host_path("/usr/lib/x86_64-linux-gnu/libssl.so.3"). Purely lexical (and never above the
  // rootfs): symlinks inside the rootfs are not followed (absolute ones would lead back
  // to the host), so pass the real location, not e.g. /lib/... (a symlink to usr/lib here).
  std::string host_path(const std::string& inside) const;

  // How the wrapped process gets its root directory.
  enum class RootSwitch {
    // chroot(2) via util-linux `unshare --root`. Host-side views of the process keep host
    // paths: /proc/<pid>/maps names /tmp/llmtap-rootfs-.../usr/lib/..., /proc/<pid>/root the
    // rootfs. No /proc inside.
    kChroot,
    // pivot_root(2) onto a bind mount of the rootfs, the old root detached, a fresh procfs on
    // /proc: what runc does. Host-side views show container paths, as for real containers:
    // /proc/<pid>/maps names /usr/lib/x86_64-linux-gnu/libssl.so.3 (the rootfs copy, not the
    // host file of that name) and /proc/<pid>/root reads "/".
    kPivotRoot,
  };

  // An argv that runs `argv` (paths as seen inside the rootfs) as pid 1 of new mount + pid
  // namespaces rooted in the rootfs (working directory /). The namespaced process is killed
  // when the launching unshare process dies. If `cgroup` is non-empty (a cgroup v2 directory),
  // the launcher first moves itself there, so the workload starts in it. No element of `argv`
  // or `cgroup` is ever interpreted by a shell. Mounts made for kPivotRoot live only in the
  // new mount namespace and vanish with it.
  std::vector<std::string> wrap(const std::vector<std::string>& argv,
                                const std::string& cgroup = "",
                                RootSwitch root_switch = RootSwitch::kChroot) const;

 private:
  std::string path_;
};

}  // namespace llmtap::e2e
