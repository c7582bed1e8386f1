// As root: ContainerRootfs + TestCgroup really give a client its own namespaces, chroot, cgroup
// and library inodes, and leave nothing behind.
#include "container_rootfs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "test_cgroup.h"
#include "tls_test_server.h"

namespace llmtap::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kHostLibssl = "/usr/lib/x86_64-linux-gnu/libssl.so.3";
constexpr const char* kKubeletPath =
    "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234.slice/"
    "cri-containerd-abc.scope";

#define SKIP_UNLESS_ROOT() \
  if (geteuid() != 0) GTEST_SKIP() << "needs root (namespaces, chroot, cgroups)"

struct stat stat_or_throw(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + path);
  return st;
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Value of a "Key:\tvalue" line of /proc/<pid>/status.
std::string status_field(pid_t pid, const std::string& key) {
  for (const auto& line : lines_of("/proc/" + std::to_string(pid) + "/status")) {
    if (line.starts_with(key + ":")) return line.substr(key.size() + 1);
  }
  return {};
}

std::string ns_link(const std::string& pid, const std::string& ns) {
  return fs::read_symlink("/proc/" + pid + "/ns/" + ns).string();
}

// The id the kernel itself exports for a cgroup directory: its file handle (what libbpf's
// selftests compare with bpf_get_current_cgroup_id()).
uint64_t cgroup_id_from_handle(const std::string& path) {
  alignas(file_handle) std::array<unsigned char, sizeof(file_handle) + sizeof(uint64_t)> storage{};
  auto* handle = reinterpret_cast<file_handle*>(storage.data());
  handle->handle_bytes = sizeof(uint64_t);
  int mount_id = 0;
  if (name_to_handle_at(AT_FDCWD, path.c_str(), handle, &mount_id, 0) != 0) {
    throw std::runtime_error("name_to_handle_at failed for " + path);
  }
  uint64_t id = 0;
  std::memcpy(&id, handle->f_handle, sizeof(id));
  return id;
}

// Polls `cgroup` for a member that has exec'ed the file `exe` (the namespaced workload, as
// opposed to the launcher or the not-yet-exec'ed fork of unshare).
std::optional<pid_t> wait_for_member_running(const TestCgroup& cgroup, const struct stat& exe,
                                             std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream procs(cgroup.path() + "/cgroup.procs");
    for (pid_t pid = 0; procs >> pid;) {
      struct stat st {};
      const std::string link = "/proc/" + std::to_string(pid) + "/exe";
      if (stat(link.c_str(), &st) == 0 && same_file(st, exe)) return pid;
    }
    std::this_thread::sleep_for(5ms);
  }
  return std::nullopt;
}

// While alive, orphaned descendants (e.g. a namespace's pid 1 whose launcher was killed) are
// reparented to this process instead of the host's init, so the test can reap them itself.
class SubreaperScope {
 public:
  SubreaperScope() { prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~SubreaperScope() { prctl(PR_SET_CHILD_SUBREAPER, 0); }
  SubreaperScope(const SubreaperScope&) = delete;
  SubreaperScope& operator=(const SubreaperScope&) = delete;
};

// Reaps `pid` (which must be our child by now); its wait status, or nothing after `timeout`.
std::optional<int> reap(pid_t pid, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(5ms);
  }
  return std::nullopt;
}

struct Mapping {
  std::string path;  // as the kernel shows it to us
  ino_t inode = 0;
};

// Every mapping of a file named `name` in /proc/<pid>/maps.
std::vector<Mapping> mappings_of(pid_t pid, const std::string& name) {
  std::vector<Mapping> found;
  for (const auto& line : lines_of("/proc/" + std::to_string(pid) + "/maps")) {
    std::istringstream fields(line);
    std::string range, perms, offset, dev;
    Mapping mapping;
    fields >> range >> perms >> offset >> dev >> mapping.inode >> mapping.path;
    if (fs::path(mapping.path).filename() == name) found.push_back(mapping);
  }
  return found;
}

// A TCP listener that never accepts: the kernel completes the handshake, then a TLS client
// waits for a ServerHello forever, which keeps it alive for inspection.
class StalledListener {
 public:
  StalledListener() : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    auto* raw = reinterpret_cast<sockaddr*>(&address);
    if (fd_ < 0 || bind(fd_, raw, length) != 0 || listen(fd_, 8) != 0 ||
        getsockname(fd_, raw, &length) != 0) {
      throw std::runtime_error("cannot set up the stalled listener");
    }
    port_ = ntohs(address.sin_port);
  }
  ~StalledListener() { close(fd_); }
  StalledListener(const StalledListener&) = delete;
  StalledListener& operator=(const StalledListener&) = delete;

  uint16_t port() const { return port_; }

 private:
  int fd_;
  uint16_t port_ = 0;
};

// The repo's LLM-like TLS server with a throwaway certificate written to `dir` (a rootfs's
// /tmp, so that even a killed run's certificate goes with its rootfs).
class ServerFixture {
 public:
  explicit ServerFixture(const fs::path& dir) {
    testing::write_self_signed_certificate(dir / "cert.pem", dir / "key.pem");
    testing::TlsTestServerOptions options;
    options.cert_file = dir / "cert.pem";
    options.key_file = dir / "key.pem";
    server_ = std::make_unique<testing::TlsTestServer>(options);
  }

  const testing::TlsTestServer& server() const { return *server_; }
  std::string url() const {
    return "https://127.0.0.1:" + std::to_string(server_->port()) + "/v1/chat/completions";
  }

 private:
  std::unique_ptr<testing::TlsTestServer> server_;
};

// This process's rootfs directories (other test processes may be building theirs).
std::vector<fs::path> rootfs_dirs() {
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator("/tmp")) {
    const std::string ours = "llmtap-rootfs-" + std::to_string(getpid()) + "-";
    if (entry.path().filename().string().starts_with(ours)) dirs.push_back(entry);
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

// A pid that no process has any more (until the kernel reuses it, which takes a while).
pid_t dead_pid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

// ---- ContainerRootfs ----

TEST(ContainerRootfsTest, CopiesCurlLibrariesAndLoaderWithTheirOwnInodes) {
  SKIP_UNLESS_ROOT();
  const auto started = std::chrono::steady_clock::now();
  const ContainerRootfs rootfs({"/usr/bin/curl"});
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  RecordProperty("build_ms", std::to_string(took.count()));

  const struct stat host_ssl = stat_or_throw(kHostLibssl);
  const struct stat container_ssl = stat_or_throw(rootfs.host_path(kHostLibssl));
  EXPECT_FALSE(same_file(host_ssl, container_ssl));
  EXPECT_EQ(container_ssl.st_size, host_ssl.st_size);
  EXPECT_TRUE(S_ISREG(container_ssl.st_mode));

  EXPECT_TRUE(fs::is_regular_file(rootfs.host_path("/usr/bin/curl")));
  EXPECT_TRUE(fs::is_regular_file(rootfs.host_path("/usr/lib/x86_64-linux-gnu/libcurl.so.4")));
  // Symlinks met on the host are symlinks here too, with the same targets.
  for (const char* link : {"/lib", "/lib64/ld-linux-x86-64.so.2"}) {
    if (!fs::is_symlink(link)) continue;
    ASSERT_TRUE(fs::is_symlink(fs::symlink_status(rootfs.host_path(link)))) << link;
    EXPECT_EQ(fs::read_symlink(rootfs.host_path(link)), fs::read_symlink(link)) << link;
  }
  for (const char* dir : {"/tmp", "/dev", "/etc", "/proc"}) {
    EXPECT_TRUE(fs::is_directory(rootfs.host_path(dir))) << dir;
  }
  if (fs::exists("/etc/ssl/openssl.cnf")) {
    EXPECT_TRUE(fs::exists(rootfs.host_path("/etc/ssl/openssl.cnf")));
  }
  // A hard link to a host file would have a second name: every copy must have exactly one.
  for (const auto& entry : fs::recursive_directory_iterator(rootfs.path())) {
    if (entry.is_regular_file() && !entry.is_symlink()) {
      EXPECT_EQ(entry.hard_link_count(), 1u) << entry.path();
    }
  }
}

TEST(ContainerRootfsTest, DestructorRemovesTreeWithoutTouchingTheHost) {
  SKIP_UNLESS_ROOT();
  std::string path;
  {
    const ContainerRootfs rootfs({"/usr/bin/curl"});
    path = rootfs.path();
    ASSERT_TRUE(fs::is_directory(path));
  }
  EXPECT_FALSE(fs::exists(fs::symlink_status(path)));
  // The rootfs holds absolute symlinks into /lib: removal must not have followed them.
  EXPECT_TRUE(fs::exists(kHostLibssl));
  EXPECT_TRUE(fs::exists("/lib64/ld-linux-x86-64.so.2"));
}

TEST(ContainerRootfsTest, FailsClearlyAndCleansUpForAMissingProgram) {
  SKIP_UNLESS_ROOT();
  const auto before = rootfs_dirs();
  try {
    ContainerRootfs rootfs({"/usr/bin/curl", "/nonexistent/llmtap-no-such-program"});
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/llmtap-no-such-program"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(rootfs_dirs(), before);
}

TEST(ContainerRootfsTest, RemoveStaleSweepsOnlyTreesOfDeadProcesses) {
  SKIP_UNLESS_ROOT();
  const fs::path stale = "/tmp/llmtap-rootfs-" + std::to_string(dead_pid()) + "-stale";
  const fs::path live = "/tmp/llmtap-rootfs-" + std::to_string(getpid()) + "-live";
  for (const auto& dir : {stale, live}) {
    fs::create_directories(dir / "usr/lib");
    std::ofstream(dir / "usr/lib/libfake.so") << "x";
    fs::create_symlink("/usr/lib", dir / "lib");  // absolute, into the host: must not be followed
    fs::create_symlink(kHostLibssl, dir / "usr/lib/libssl.so.3");
  }

  ContainerRootfs::remove_stale();

  EXPECT_FALSE(fs::exists(fs::symlink_status(stale)));
  EXPECT_TRUE(fs::exists(live / "usr/lib/libfake.so"));
  EXPECT_TRUE(fs::exists(kHostLibssl));
  fs::remove_all(live);
}

// ---- Workloads in the container, with either way of switching roots ----

using RootSwitch = ContainerRootfs::RootSwitch;

class ContainedWorkloadTest : public ::testing::TestWithParam<RootSwitch> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (namespaces, chroot, cgroups)";
  }
  RootSwitch root_switch() const { return GetParam(); }
};

INSTANTIATE_TEST_SUITE_P(Roots, ContainedWorkloadTest,
                         ::testing::Values(RootSwitch::kChroot, RootSwitch::kPivotRoot),
                         [](const auto& info) {
                           return info.param == RootSwitch::kChroot ? "Chroot" : "PivotRoot";
                         });

TEST_P(ContainedWorkloadTest, ArgumentsReachTheProgramVerbatim) {
  const ContainerRootfs rootfs({"/usr/bin/echo"});
  const TestCgroup cgroup;
  const std::vector<std::string> args = {"a  b", "$(touch /tmp/llmtap-pwned)", "'\"`;|&", "-n"};
  std::vector<std::string> argv = {"/usr/bin/echo"};
  argv.insert(argv.end(), args.begin(), args.end());

  const ChildResult result = run_child(rootfs.wrap(argv, cgroup.path(), root_switch()));

  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "a  b $(touch /tmp/llmtap-pwned) '\"`;|& -n\n");
  EXPECT_FALSE(fs::exists("/tmp/llmtap-pwned"));
}

TEST_P(ContainedWorkloadTest, CurlTalksToTheHostServer) {
  const ContainerRootfs rootfs({"/usr/bin/curl"});
  const ServerFixture fixture(rootfs.host_path("/tmp"));
  const TestCgroup cgroup(kKubeletPath);

  const ChildResult result = run_child(
      rootfs.wrap({"/usr/bin/curl", "-sSk", "--max-time", "20", fixture.url(), "-d", "{}"},
                  cgroup.path(), root_switch()),
      nullptr, 30s);

  // A 137 (killed at 30 s though curl gives up at 20 s) means curl sat stopped the whole time,
  // e.g. held at connect by another `llmtap trace` running on this host.
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto body = nlohmann::json::parse(result.out);
  EXPECT_EQ(body.at("object"), "chat.completion");
  ASSERT_TRUE(fixture.server().wait_for_closed_connections(1, 5s));
  const auto connections = fixture.server().connections();
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_TRUE(connections[0].received.starts_with("POST /v1/chat/completions HTTP/1.1\r\n"))
      << connections[0].received;
}

// What the host sees of a curl stuck in its TLS handshake inside the container.
void expect_contained(const ContainerRootfs& rootfs, const TestCgroup& cgroup, pid_t workload,
                      RootSwitch root_switch) {
  const std::string pid = std::to_string(workload);
  // pid 1 of its own pid namespace: NSpid lists the host pid, then 1.
  EXPECT_EQ(status_field(workload, "NSpid"), "\t" + pid + "\t1");
  EXPECT_NE(ns_link(pid, "pid"), ns_link("self", "pid"));
  EXPECT_NE(ns_link(pid, "mnt"), ns_link("self", "mnt"));
  // The cgroup the kernel (and bpf_get_current_cgroup_id) attributes it to.
  const auto cgroup_lines = lines_of("/proc/" + pid + "/cgroup");
  EXPECT_NE(std::find(cgroup_lines.begin(), cgroup_lines.end(), "0::" + cgroup.relative_path()),
            cgroup_lines.end());

  const bool pivoted = root_switch == RootSwitch::kPivotRoot;
  EXPECT_EQ(fs::read_symlink("/proc/" + pid + "/root"), fs::path(pivoted ? "/" : rootfs.path()));
  if (pivoted) {  // nothing of the host's root is left in its mount namespace
    for (const auto& line : lines_of("/proc/" + pid + "/mountinfo")) {
      EXPECT_EQ(line.find("oldroot"), std::string::npos) << line;
    }
  }

  // libssl is mapped once TLS starts: the container's copy, named as the container sees it
  // after pivot_root (so the same name on the host is another file).
  std::vector<Mapping> ssl;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       ssl.empty() && std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(5ms)) {
    ssl = mappings_of(workload, "libssl.so.3");
  }
  ASSERT_FALSE(ssl.empty());
  for (const auto& mapping : ssl) {
    EXPECT_EQ(mapping.path, pivoted ? kHostLibssl : rootfs.host_path(kHostLibssl));
    EXPECT_EQ(mapping.inode, stat_or_throw(rootfs.host_path(kHostLibssl)).st_ino);
    EXPECT_NE(mapping.inode, stat_or_throw(kHostLibssl).st_ino);
  }
}

TEST_P(ContainedWorkloadTest, IsPid1InItsCgroupWithContainerLibsslAndDiesWithItsLauncher) {
  const StalledListener listener;
  const ContainerRootfs rootfs({"/usr/bin/curl"});
  const TestCgroup cgroup(kKubeletPath);
  const std::string url = "https://127.0.0.1:" + std::to_string(listener.port()) + "/";
  const SubreaperScope subreaper;
  pid_t workload = -1;
  {
    ChildProcess launcher(rootfs.wrap({"/usr/bin/curl", "-sk", "--max-time", "30", url},
                                      cgroup.path(), root_switch()));
    launcher.release();
    const auto found =
        wait_for_member_running(cgroup, stat_or_throw(rootfs.host_path("/usr/bin/curl")));
    ASSERT_TRUE(found.has_value()) << "no rootfs curl ever ran in " << cgroup.path();
    workload = *found;
    expect_contained(rootfs, cgroup, workload, root_switch());
  }  // the launcher is SIGKILLed here; --kill-child must take pid 1 with it
  const std::optional<int> status = reap(workload);
  ASSERT_TRUE(status.has_value()) << "pid 1 of the container outlived its launcher";
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
}

// ---- TestCgroup ----

TEST(TestCgroupTest, CreatesKubeletLikePathWithMatchingIdAndRemovesItAll) {
  SKIP_UNLESS_ROOT();
  ChildProcess child({"sleep", "30"});  // suspended: a live pid to move around
  std::string top;
  {
    const TestCgroup cgroup(kKubeletPath);
    ASSERT_TRUE(cgroup.path().ends_with(std::string("/") + kKubeletPath)) << cgroup.path();
    top = cgroup.path().substr(0, cgroup.path().size() - std::string(kKubeletPath).size() - 1);
    EXPECT_TRUE(fs::path(top).filename().string().starts_with("llmtap-test-" +
                                                              std::to_string(getpid()) + "-"))
        << top;
    EXPECT_EQ(fs::path(top).parent_path(), fs::path(TestCgroup::hierarchy_root()));
    EXPECT_EQ(cgroup.id(), stat_or_throw(cgroup.path()).st_ino);
    EXPECT_EQ(cgroup.id(), cgroup_id_from_handle(cgroup.path()));
    EXPECT_NE(cgroup.id(), stat_or_throw(top).st_ino);

    cgroup.add_process(child.pid());
    EXPECT_EQ(lines_of(cgroup.path() + "/cgroup.procs"),
              std::vector<std::string>{std::to_string(child.pid())});
    const auto lines = lines_of("/proc/" + std::to_string(child.pid()) + "/cgroup");
    EXPECT_NE(std::find(lines.begin(), lines.end(), "0::" + cgroup.relative_path()), lines.end());
  }  // destroyed with the child still inside
  EXPECT_FALSE(fs::exists(top));
  const auto lines = lines_of("/proc/" + std::to_string(child.pid()) + "/cgroup");
  EXPECT_NE(std::find(lines.begin(), lines.end(), "0::/"), lines.end());
}

TEST(TestCgroupTest, RemoveStaleSweepsCgroupsOfDeadProcessesEvenWithMembers) {
  SKIP_UNLESS_ROOT();
  const std::string root = TestCgroup::hierarchy_root();
  const fs::path stale = root + "/llmtap-test-" + std::to_string(dead_pid()) + "-0";
  fs::create_directories(stale / "a.slice/b.scope");
  fs::create_directories(stale / "c.slice");
  ChildProcess child({"sleep", "30"});
  std::ofstream(stale / "a.slice/b.scope/cgroup.procs") << child.pid() << std::flush;
  ASSERT_EQ(lines_of(stale / "a.slice/b.scope/cgroup.procs"),
            std::vector<std::string>{std::to_string(child.pid())});
  const TestCgroup live;

  TestCgroup::remove_stale();

  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live.path()));
}

TEST(TestCgroupTest, NamesAreUniqueAndTopLevelWithoutNesting) {
  SKIP_UNLESS_ROOT();
  const TestCgroup a;
  const TestCgroup b;
  EXPECT_NE(a.path(), b.path());
  EXPECT_NE(a.id(), b.id());
  EXPECT_EQ(fs::path(a.path()).parent_path(), fs::path(TestCgroup::hierarchy_root()));
  EXPECT_EQ(a.relative_path(), "/" + fs::path(a.path()).filename().string());
}

TEST(TestCgroupTest, RejectsNestedPathsThatEscape) {
  SKIP_UNLESS_ROOT();
  for (const char* bad : {"../escape", "/sys/fs/cgroup/x", "a/./b", "a/../../b", "a/"}) {
    EXPECT_THROW(TestCgroup{bad}, std::invalid_argument) << bad;
  }
}

TEST(TestCgroupTest, EvacuatesProcessesForkedInsideBeforeRemoving) {
  SKIP_UNLESS_ROOT();
  ChildProcess shell({"sh", "-c", "sleep 30 & sleep 30 & wait"});
  std::vector<std::string> members;
  std::string top;
  {
    const TestCgroup cgroup("a/b");
    top = fs::path(cgroup.path()).parent_path().parent_path();
    cgroup.add_process(shell.pid());
    shell.release();
    for (auto deadline = std::chrono::steady_clock::now() + 5s;
         members.size() < 3 && std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(5ms)) {
      members = lines_of(cgroup.path() + "/cgroup.procs");
    }
    EXPECT_EQ(members.size(), 3u);
  }  // destroyed with the shell and both of its sleeps still inside
  EXPECT_FALSE(fs::exists(top));
  // Kill the sleeps first so the shell reaps them: no orphans for the host's init.
  for (const auto& member : members) {
    if (std::stoi(member) != shell.pid()) kill(std::stoi(member), SIGKILL);
  }
  EXPECT_EQ(shell.wait(10s).exit_code, 0);
}

}  // namespace
}  // namespace llmtap::e2e
