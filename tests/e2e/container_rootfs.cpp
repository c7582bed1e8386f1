#include "stale_owner.h"
#include "container_rootfs.h"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>

extern char** environ;

namespace llmtap::e2e {
namespace {

namespace fs = std::filesystem;

// Linux gives up after this many symlinks in one lookup (MAXSYMLINKS); so do we.
constexpr int kMaxSymlinkDepth = 40;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("ContainerRootfs: " + what);
}

struct Captured {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv (searched in PATH) to completion without a shell, capturing its output.
Captured run_and_capture(const std::vector<std::string>& argv) {
  std::array<int, 2> fds{};
  if (pipe2(fds.data(), O_CLOEXEC) != 0) fail(std::string("pipe2: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    fail("cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  Captured result;
  std::array<char, 4096> buf{};
  ssize_t n = 0;
  while ((n = read(fds[0], buf.data(), buf.size())) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) result.output.append(buf.data(), static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// The absolute path on one ldd output line, if any: "libz.so.1 => /lib/.../libz.so.1 (0x..)"
// or "/lib64/ld-linux-x86-64.so.2 (0x..)". The vDSO line has no path.
std::string path_on_ldd_line(std::string_view line, const std::string& program) {
  line = trim(line);
  if (const auto arrow = line.find("=>"); arrow != std::string_view::npos) {
    const std::string_view lib = trim(line.substr(0, arrow));
    line = trim(line.substr(arrow + 2));
    if (line.starts_with("not found")) {
      fail("ldd: " + std::string(lib) + " needed by " + program + " not found");
    }
  }
  if (!line.starts_with('/')) return {};
  return std::string(line.substr(0, line.find(" (")));
}

// Shared objects (libraries and loader) a dynamic program needs; none for a static one.
std::vector<std::string> shared_objects(const std::string& program) {
  const Captured ldd = run_and_capture({"ldd", program});
  if (ldd.exit_code != 0) {
    if (ldd.output.find("not a dynamic executable") != std::string::npos) return {};
    fail("ldd " + program + " failed (exit " + std::to_string(ldd.exit_code) + "): " + ldd.output);
  }
  std::vector<std::string> paths;
  std::istringstream lines(ldd.output);
  for (std::string line; std::getline(lines, line);) {
    if (auto path = path_on_ldd_line(line, program); !path.empty())
      paths.push_back(std::move(path));
  }
  return paths;
}

// Replicates host paths inside `root`, component by component the way the kernel resolves
// them, so every symlink crossed on the host exists as the same symlink in the rootfs and every
// regular file is a fresh copy. Host-side operations never follow a symlink inside the rootfs
// (an absolute one would lead back into the host).
class TreeCopier {
 public:
  explicit TreeCopier(fs::path root) : root_(std::move(root)) {}

  // Copies `host_path` (absolute) in; returns its fully resolved host path.
  fs::path copy(const fs::path& host_path, int depth = 0) {
    if (depth > kMaxSymlinkDepth) fail("too many levels of symlinks at " + host_path.string());
    fs::path resolved = "/";
    for (const fs::path& part : host_path.relative_path()) {
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        resolved = resolved.parent_path();
        continue;
      }
      resolved = copy_entry(resolved / part, depth);
    }
    return resolved;
  }

 private:
  // `host` has a fully resolved parent that already exists inside the rootfs.
  fs::path copy_entry(const fs::path& host, int depth) {
    const fs::path inside = root_ / host.relative_path();
    const fs::file_status status = fs::symlink_status(host);
    switch (status.type()) {
      case fs::file_type::symlink: {
        const fs::path target = fs::read_symlink(host);
        if (!fs::exists(fs::symlink_status(inside))) fs::create_symlink(target, inside);
        return copy(target.is_absolute() ? target : host.parent_path() / target, depth + 1);
      }
      case fs::file_type::directory:
        fs::create_directory(inside, host);  // mode and owner like the host's
        return host;
      case fs::file_type::regular:
        // A copy, never a hard link: the rootfs must have its own inodes. No set-id bits: the
        // copy sits in world-traversable /tmp.
        if (fs::copy_file(host, inside, fs::copy_options::skip_existing)) {
          fs::permissions(inside, fs::perms::set_uid | fs::perms::set_gid,
                          fs::perm_options::remove);
        }
        return host;
      case fs::file_type::not_found:
        fail(host.string() + " does not exist on the host");
      default:
        fail(host.string() + " is neither a regular file, a directory nor a symlink");
    }
  }

  fs::path root_;
};

constexpr char kRootPrefix[] = "llmtap-rootfs-";

std::string make_root_directory() {
  ContainerRootfs::remove_stale();  // whoever crashed before us, clean up now
  // The pid in the name tells whose tree it is, for remove_stale().
  std::string tmpl = std::string("/tmp/") + kRootPrefix + std::to_string(getpid()) + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) fail(std::string("mkdtemp: ") + std::strerror(errno));
  // mkdtemp gives 0700; a container's / is world-readable, which non-root workloads rely on.
  fs::permissions(tmpl, fs::perms(0755));
  return tmpl;
}

void make_directory(const fs::path& dir, fs::perms mode) {
  fs::create_directories(dir);
  fs::permissions(dir, mode);
}

void make_base_directories(const fs::path& root) {
  make_directory(root / "tmp", fs::perms(01777));
  make_directory(root / "dev", fs::perms(0755));
  make_directory(root / "etc", fs::perms(0755));
  make_directory(root / "proc", fs::perms(0555));
  make_directory(root / ".oldroot", fs::perms(0700));  // pivot_root's put_old, then detached
  // Best effort: mknod may be refused (e.g. in a user namespace); nothing here needs it.
  const std::string null_dev = (root / "dev/null").string();
  if (mknod(null_dev.c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) chmod(null_dev.c_str(), 0666);
}

// Absolute path of a program in PATH, so wrapped argvs work whatever the spawner searches.
std::string find_in_path(const std::string& name) {
  const char* env = std::getenv("PATH");
  std::istringstream dirs(env != nullptr ? env : "/usr/sbin:/usr/bin:/sbin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (fs::path(dir.empty() ? "." : dir) / name).string();
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  fail(name + " not found in PATH");
}

void check_program(const std::string& program) {
  if (!fs::path(program).is_absolute()) fail("program path must be absolute: " + program);
  if (access(program.c_str(), X_OK) != 0) fail(program + " is not an executable file");
}

void populate(const fs::path& root, std::vector<std::string> programs) {
  make_base_directories(root);
  TreeCopier copier(root);
  // After pivot_root only the rootfs is left to run the umount that detaches the host's root.
  programs.push_back(find_in_path("umount"));
  for (const auto& program : programs) {
    check_program(program);
    copier.copy(program);
    for (const auto& object : shared_objects(program)) copier.copy(object);
  }
  if (fs::exists("/etc/ssl/openssl.cnf")) copier.copy("/etc/ssl/openssl.cnf");
}

// Undoes /proc/self/mountinfo's octal escapes (\040 for a space, ...).
std::string unescape_mount_path(std::string_view escaped) {
  std::string out;
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] == '\\' && i + 3 < escaped.size()) {
      out.push_back(
          static_cast<char>(std::stoi(std::string(escaped.substr(i + 1, 3)), nullptr, 8)));
      i += 3;
    } else {
      out.push_back(escaped[i]);
    }
  }
  return out;
}

// Lazily unmounts everything mounted at or below `dir` in our mount namespace, deepest first.
void unmount_below(const std::string& dir) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::vector<std::string> targets;
  for (std::string line; std::getline(mountinfo, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    fields >> id >> parent >> dev >> root >> mount_point;
    const std::string target = unescape_mount_path(mount_point);
    if (target == dir || target.starts_with(dir + "/")) targets.push_back(target);
  }
  std::sort(targets.begin(), targets.end(), std::greater<>());  // a child sorts before its parent
  for (const auto& target : targets) umount2(target.c_str(), MNT_DETACH);
}

// Depth-first removal that neither follows symlinks nor crosses into another file system, so a
// mount that survived unmount_below can never cost host files.
void remove_tree(const std::string& dir) {
  nftw(
      dir.c_str(),
      [](const char* path, const struct stat*, int, struct FTW*) {
        std::remove(path);
        return 0;  // keep going: remove as much as possible
      },
      64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

void remove_rootfs(const std::string& dir) {
  unmount_below(dir);
  remove_tree(dir);
}


}  // namespace

void ContainerRootfs::remove_stale() noexcept {
  try {
    for (const auto& entry : fs::directory_iterator("/tmp")) {
      const auto owner = owner_pid(entry.path().filename().string(), kRootPrefix);
      if (owner && !process_alive(*owner) && entry.is_directory() && !entry.is_symlink()) {
        remove_rootfs(entry.path().string());
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "ContainerRootfs: sweeping stale trees failed: " << e.what() << "\n";
  }
}

ContainerRootfs::ContainerRootfs(const std::vector<std::string>& programs)
    : path_(make_root_directory()) {
  try {
    populate(path_, programs);
  } catch (...) {
    remove_tree(path_);  // the destructor will not run for a half-built object
    throw;               // fail()'s runtime_error, or a filesystem_error (also a runtime_error)
  }
}

ContainerRootfs::~ContainerRootfs() {
  try {
    remove_rootfs(path_);
    if (fs::exists(fs::symlink_status(path_))) {
      std::cerr << "ContainerRootfs: could not fully remove " << path_ << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "ContainerRootfs: cleanup of " << path_ << " failed: " << e.what() << "\n";
  }
}

std::string ContainerRootfs::host_path(const std::string& inside) const {
  // Normalising under "/" first drops leading "..", so the result stays inside the rootfs.
  const fs::path absolute = (fs::path("/") / inside).lexically_normal();
  return (fs::path(path_) / absolute.relative_path()).string();
}

std::vector<std::string> ContainerRootfs::wrap(const std::vector<std::string>& argv,
                                               const std::string& cgroup,
                                               RootSwitch root_switch) const {
  if (argv.empty()) throw std::invalid_argument("ContainerRootfs::wrap: empty argv");
  static const std::string unshare = find_in_path("unshare");
  // Every path and argument below travels as a positional parameter ($0, $1, "$@"), never as
  // script text, so nothing in them is parsed by a shell. `exec` keeps the pid that was set up.
  std::vector<std::string> wrapped;
  if (!cgroup.empty()) {
    wrapped = {"/bin/sh", "-c", R"(echo $$ > "$0/cgroup.procs" || exit 125; exec "$@")", cgroup};
  }
  // --kill-child: killing the launcher (e.g. a test timeout) must not leave pid 1 behind.
  wrapped.insert(wrapped.end(), {unshare, "--mount", "--pid", "--fork", "--kill-child"});
  if (root_switch == RootSwitch::kChroot) {
    wrapped.insert(wrapped.end(), {"--root=" + path_, "--"});
  } else {
    // Runs as pid 1 of the new namespaces, still seeing the host: bind-mount the rootfs onto
    // itself (pivot_root wants a mount point), mount this pid namespace's procfs, pivot, then
    // detach the host's root with the rootfs's own umount (which reads the new /proc).
    static const std::string mount = find_in_path("mount");
    static const std::string pivot_root = find_in_path("pivot_root");
    static const std::string umount = find_in_path("umount");
    constexpr const char* kPivot =
        R"(root=$0 mount=$1 pivot_root=$2 umount=$3; shift 3)"
        "\n"
        R"("$mount" --bind "$root" "$root" && "$mount" -t proc proc "$root/proc" &&)"
        R"( cd "$root" && "$pivot_root" . .oldroot && "$umount" -l /.oldroot || exit 125)"
        "\n"
        R"(exec "$@")";
    wrapped.insert(wrapped.end(),
                   {"--", "/bin/sh", "-c", kPivot, path_, mount, pivot_root, umount});
  }
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

}  // namespace llmtap::e2e
