#include "stale_owner.h"
#include "test_cgroup.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>

namespace llmtap::e2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kTopPrefix[] = "llmtap-test-";

// Exiting tasks can keep a cgroup busy for a moment after they left cgroup.procs.
constexpr auto kRemoveTimeout = std::chrono::seconds(5);

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), "TestCgroup: " + what);
}

bool is_cgroup2(const std::string& dir) {
  struct statfs fs_info {};
  return statfs(dir.c_str(), &fs_info) == 0 &&
         static_cast<unsigned long>(fs_info.f_type) == CGROUP2_SUPER_MAGIC;
}

// cgroup files want the whole value in one write(2); errno tells why the kernel refused.
void write_value(const std::string& file, const std::string& value) {
  const int fd = open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail_errno("open " + file);
  const ssize_t written = write(fd, value.data(), value.size());
  const int saved = errno;
  close(fd);
  errno = saved;
  if (written != static_cast<ssize_t>(value.size())) fail_errno("write " + value + " to " + file);
}

std::vector<pid_t> member_pids(const std::string& dir) {
  std::ifstream procs(dir + "/cgroup.procs");
  std::vector<pid_t> pids;
  for (pid_t pid = 0; procs >> pid;) pids.push_back(pid);
  return pids;
}

// "a/b/c" only: no absolute path, no empty, "." or ".." component, so we never touch a
// directory outside the one we created.
void validate_nested(const std::string& nested) {
  if (nested.empty()) return;
  const fs::path path(nested);
  if (path.is_absolute()) throw std::invalid_argument("TestCgroup: nested path is absolute");
  for (const fs::path& part : path) {
    if (part.empty() || part == "." || part == "..") {
      throw std::invalid_argument("TestCgroup: bad nested path '" + nested + "'");
    }
  }
}

// mkdir of llmtap-test-<pid>-<n> for the first n not taken (a stale one from a reused pid).
std::string make_unique_top(const std::string& root) {
  static std::atomic<unsigned> counter{0};
  while (true) {
    const std::string dir =
        root + "/" + kTopPrefix + std::to_string(getpid()) + "-" + std::to_string(counter++);
    if (mkdir(dir.c_str(), 0755) == 0) return dir;
    if (errno != EEXIST) fail_errno("mkdir " + dir);
  }
}

// Moves every member of `dir` to the root cgroup; ESRCH (exited meanwhile) is fine, anything
// else shows up as a failed rmdir.
void evacuate(const std::string& root, const std::string& dir) {
  for (const pid_t pid : member_pids(dir)) {
    try {
      write_value(root + "/cgroup.procs", std::to_string(pid));
    } catch (const std::system_error&) {
    }
  }
}

void remove_directory(const std::string& root, const std::string& dir, Clock::time_point deadline) {
  while (true) {
    evacuate(root, dir);  // before every attempt: a member may have forked since the last one
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    if (const int error = errno; error != EBUSY || Clock::now() > deadline) {
      std::cerr << "TestCgroup: cannot remove " << dir << ": " << std::strerror(error) << "\n";
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// `dirs` must list children before their parents.
void remove_directories(const std::string& root, const std::vector<std::string>& dirs) noexcept {
  const auto deadline = Clock::now() + kRemoveTimeout;
  for (const auto& dir : dirs) remove_directory(root, dir, deadline);
}

std::vector<std::string> directories_deepest_first(const fs::path& top) {
  std::vector<std::string> dirs{top.string()};
  for (const auto& entry : fs::recursive_directory_iterator(top)) {
    if (entry.is_directory() && !entry.is_symlink()) dirs.push_back(entry.path().string());
  }
  std::sort(dirs.begin(), dirs.end(), std::greater<>());  // a child sorts before its parent
  return dirs;
}


}  // namespace

std::string TestCgroup::hierarchy_root() {
  // Hybrid hosts (systemd "hybrid", cgroup v1 controllers) mount v2 at unified/.
  for (const char* candidate : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    if (is_cgroup2(candidate)) return candidate;
  }
  throw std::runtime_error("TestCgroup: no cgroup v2 hierarchy at /sys/fs/cgroup[/unified]");
}

TestCgroup::TestCgroup(const std::string& nested) : root_(hierarchy_root()) {
  validate_nested(nested);
  remove_stale();
  created_.push_back(make_unique_top(root_));
  try {
    for (const fs::path& part : fs::path(nested)) {
      const std::string dir = created_.back() + "/" + part.string();
      if (mkdir(dir.c_str(), 0755) != 0) fail_errno("mkdir " + dir);
      created_.push_back(dir);
    }
    struct stat st {};
    if (stat(path().c_str(), &st) != 0) fail_errno("stat " + path());
    id_ = st.st_ino;
  } catch (...) {
    remove_created();  // the destructor will not run for a half-built object
    throw;
  }
}

TestCgroup::~TestCgroup() { remove_created(); }

std::string TestCgroup::relative_path() const { return path().substr(root_.size()); }

void TestCgroup::add_process(pid_t pid) const {
  write_value(path() + "/cgroup.procs", std::to_string(pid));
}

void TestCgroup::remove_created() noexcept {
  remove_directories(root_, std::vector<std::string>(created_.rbegin(), created_.rend()));
}

void TestCgroup::remove_stale() noexcept {
  try {
    const std::string root = hierarchy_root();
    for (const auto& entry : fs::directory_iterator(root)) {
      const auto owner = owner_pid(entry.path().filename().string(), kTopPrefix);
      if (!owner || process_alive(*owner)) continue;
      remove_directories(root, directories_deepest_first(entry.path()));
    }
  } catch (const std::exception& e) {
    std::cerr << "TestCgroup: sweeping stale cgroups failed: " << e.what() << "\n";
  }
}

}  // namespace llmtap::e2e
