// End to end, as root: llmtap started with no --lib and no --pid finds every TLS user by
// itself (running, exec'ed later, dlopen'ed later, in containers, GnuTLS), keeps up with
// churn without leaking, and knows each connection from first call to close.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "bpf_gate.h"
#include "child_process.h"
#include "container_rootfs.h"
#include "e2e_fixture.h"
#include "test_cgroup.h"

namespace llmtap::e2e {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSystemLibssl = "/usr/lib/x86_64-linux-gnu/libssl.so.3";

// Starts `llmtap trace ARGS` or skips/fails the test (LLMTAP_REQUIRE_BPF) when it cannot.
uint64_t count_fds(pid_t pid) {
  uint64_t n = 0;
  for ([[maybe_unused]] const auto& e :
       fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    ++n;
  return n;
}

uint64_t rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

TEST(Discovery, HostWideCapturesCurlPythonNodeAndStaticOpensslWithoutLib) {
  START_TRACE(trace, "--max-bytes", std::to_string(4 * kOneMiB));
  Fixture f;
  expect_byte_exact(*trace, f, run_client(f, curl_command(f, 2000, 3000)), "curl");
  expect_byte_exact(*trace, f, run_client(f, python_command(f, 3, 2000, 3000)), "python3");
  // node through whichever OpenSSL it carries: its own (static) or the system libssl.
  if (!node_path().empty()) {
    expect_byte_exact(*trace, f, run_client(f, node_command(f, 3, 2000, 3000)), "node");
  }
  // OpenSSL inside the executable itself: found when it is exec'ed, captured from its first
  // byte.
  expect_byte_exact(*trace, f, run_client(f, static_openssl_command(f, 3, 2000, 3000)),
                    kStaticOpensslComm);
  EXPECT_NE(trace->stderr_text().find("static-openssl-client"), std::string::npos)
      << "the static client should have been found at exec: " << trace->stderr_text();
}

TEST(Discovery, LibraryDlopenedLaterIsCapturedFromItsFirstByte) {
  // A copy of libssl (a new inode, never seen) that python loads only on `import ssl`, 100 ms
  // after it starts; its first request must be captured whole.
  Fixture f;
  const fs::path libdir = f.dir / "late-libs";
  fs::create_directories(libdir);
  fs::copy_file(kSystemLibssl, libdir / "libssl.so.3");
  START_TRACE(trace);
  std::vector<std::string> argv = {"env", "LD_LIBRARY_PATH=" + libdir.string()};
  auto python = python_command(f, 1, 500, 500);
  python.insert(python.end(), {"--import-delay-ms", "100"});
  argv.insert(argv.end(), python.begin(), python.end());
  const ClientRun run = run_client(f, argv);
  expect_byte_exact(*trace, f, run, "python3");
  EXPECT_NE(trace->stderr_text().find(std::string("/root") + libdir.string() + "/libssl.so.3"),
            std::string::npos)
      << "the dlopen'ed copy should have been attached: " << trace->stderr_text();
}

// chroot: the container's files are also reachable from the host by path; pivot_root (as runc
// does): only through /proc/PID/root, and the same path on the host is another file.
class ContainerDiscovery : public ::testing::TestWithParam<ContainerRootfs::RootSwitch> {};

TEST_P(ContainerDiscovery, ClientWithItsOwnLibsslIsCaptured) {
  // curl in new mount + pid namespaces, chrooted into a rootfs with its own copy of libssl,
  // inside a kubelet-shaped cgroup: llmtap attaches the container's copy through
  // /proc/PID/root and reports host pids and the container's cgroup.
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  ContainerRootfs rootfs({"/usr/bin/curl"});
  TestCgroup cgroup(
      "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234.slice/"
      "cri-containerd-0123abcd.scope");
  START_TRACE(trace, "--cgroup", cgroup.path());
  const size_t before = f.server->connections().size();
  auto argv = rootfs.wrap(curl_command(f, 1500, 2500), cgroup.path(), GetParam());
  argv.erase(std::remove_if(argv.begin(), argv.end(),
                            [](const std::string& a) { return a.rfind("@/", 0) == 0; }),
             argv.end());
  // The body file lives on the host: give the container an inline body instead.
  auto at = std::find(argv.begin(), argv.end(), "--data-binary");
  ASSERT_NE(at, argv.end());
  argv.insert(at + 1, std::string(1500, 'c'));
  const ChildResult result = run_child(argv);
  ASSERT_EQ(result.exit_code, 0) << result.err;

  std::vector<TraceEvent> events;
  for (int i = 0; i < 100 && events.size() < 2; ++i) {  // a request and its response
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    events = trace->events();
  }
  ASSERT_FALSE(events.empty()) << trace->stderr_text();
  ClientRun run = collect_client(f, static_cast<pid_t>(events.front().pid), before);
  for (const auto& e : events) {
    EXPECT_EQ(e.json["cgroup_id"].get<uint64_t>(), cgroup.id());
    EXPECT_NE(e.pid, 1u) << "events report host pids, not the namespace's";
  }
  expect_byte_exact(*trace, f, run, "curl");
  // The container's copy (its own inode) is what was attached: by the path the host reaches
  // it at (this chroot is visible from the host), or through /proc/PID/root.
  const std::string log = trace->stderr_text();
  const bool through_proc_root =
      log.find("/root/usr/lib/x86_64-linux-gnu/libssl.so.3 (pid ") != std::string::npos;
  const bool attached_copy =
      through_proc_root || (GetParam() == ContainerRootfs::RootSwitch::kChroot &&
                            log.find(rootfs.host_path("/usr/lib/x86_64-linux-gnu/libssl.so.3") +
                                     " (pid ") != std::string::npos);
  EXPECT_TRUE(attached_copy) << "the container's libssl copy should be attached: " << log;
}

INSTANTIATE_TEST_SUITE_P(RootSwitch, ContainerDiscovery,
                         ::testing::Values(ContainerRootfs::RootSwitch::kChroot,
                                           ContainerRootfs::RootSwitch::kPivotRoot),
                         [](const auto& info) {
                           return info.param == ContainerRootfs::RootSwitch::kChroot ? "chroot"
                                                                                     : "pivot_root";
                         });

TEST(Discovery, GnuTlsClientIsCapturedByteExact) {
  START_TRACE(trace);
  Fixture f;
  expect_byte_exact(*trace, f, run_client(f, wget_command(f, 3000, 5000)), "wget", "gnutls");
}

TEST(Discovery, Ipv6ConnectionsReportIpv6Endpoints) {
  START_TRACE(trace);
  Fixture f("::1");
  const ClientRun run = run_client(f, python_command(f, 2, 300, 300));
  expect_byte_exact(*trace, f, run, "python3");
  for (const auto& e : trace->events_for(run.pid)) {
    EXPECT_TRUE(e.src.starts_with("[::1]:")) << e.src;
    EXPECT_TRUE(e.dst.starts_with("[::1]:")) << e.dst;
  }
}

TEST(Discovery, CommFilterKeepsOnlyThatCommand) {
  START_TRACE(trace, "--comm", "curl");
  Fixture f;
  const ClientRun py = run_client(f, python_command(f, 1, 100, 100));
  const ClientRun curl = run_client(f, curl_command(f, 100, 100));
  expect_byte_exact(*trace, f, curl, "curl");
  for (const auto& e : trace->events()) EXPECT_EQ(e.comm, "curl");
  EXPECT_TRUE(trace->events_for(py.pid).empty());
}

TEST(Discovery, ConnectionHasOneIdFromFirstCallToClose) {
  START_TRACE(trace);
  Fixture f;
  const ClientRun run = run_client(f, python_command(f, 5, 100, 100));
  const auto events = trace->wait_for_bytes(run.pid, total_bytes(run.connections));
  ASSERT_FALSE(events.empty());
  std::set<uint64_t> ids;
  for (const auto& e : events) ids.insert(e.json["conn"]["id"].get<uint64_t>());
  ASSERT_EQ(ids.size(), 1u) << "one keep-alive connection, one id";
  EXPECT_NE(*ids.begin(), 0u);

  std::optional<nlohmann::json> close;
  for (int i = 0; i < 50 && !close; ++i) {
    for (const auto& c : trace->closes()) {
      if (c["pid"] == run.pid) close = c;
    }
    if (!close) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(close.has_value()) << "no tls_close for the connection";
  EXPECT_EQ((*close)["conn"]["id"].get<uint64_t>(), *ids.begin());
  EXPECT_EQ((*close)["conn"]["dst"], f.server_endpoint());
  EXPECT_EQ((*close)["calls"].get<uint64_t>(), events.size());
  EXPECT_EQ((*close)["bytes_written"].get<uint64_t>() + (*close)["bytes_read"].get<uint64_t>(),
            total_bytes(run.connections));
}

TEST(Discovery, ChurnOfFiveHundredClientsLeaksNothing) {
  START_TRACE(trace);
  Fixture f;
  // Warm up (first-time examinations), then take the baseline.
  run_client(f, curl_command(f, 100, 100));
  run_client(f, static_openssl_command(f, 1, 100, 100));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const uint64_t fds_before = count_fds(trace->pid());
  const uint64_t rss_before = rss_kib(trace->pid());

  std::vector<pid_t> pids;
  for (int i = 0; i < 500; ++i) {
    pid_t pid = -1;
    const auto r = run_child(curl_command(f, 100, 100), &pid);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    pids.push_back(pid);
  }
  // The static client is attached at exec and detached at exit: churn the attachments too.
  for (int i = 0; i < 10; ++i) run_client(f, static_openssl_command(f, 1, 100, 100));
  // Detached links are destroyed off the poll thread (each waits for RCU grace periods):
  // give them time, then the fd count must be back.
  uint64_t fds_after = 0;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    fds_after = count_fds(trace->pid());
    if (fds_after <= fds_before) break;
  }
  const uint64_t rss_after = rss_kib(trace->pid());
  std::set<uint32_t> captured;
  for (const auto& e : trace->events()) captured.insert(e.pid);
  size_t missing = 0;
  for (const pid_t pid : pids) missing += captured.contains(static_cast<uint32_t>(pid)) ? 0 : 1;
  EXPECT_EQ(missing, 0u) << "every client must be captured";
  // Stated bounds: no fd (links, perf events, maps) more than at the start; RSS within 16 MiB.
  EXPECT_LE(fds_after, fds_before) << "fds " << fds_before << " -> " << fds_after;
  EXPECT_LE(rss_after, rss_before + 16 * 1024) << "RSS KiB " << rss_before << " -> " << rss_after;
  const auto summary = trace->stop();
  EXPECT_EQ(summary.at("lost_bytes"), 0u);
  EXPECT_EQ(summary.at("lost_proc_events"), 0u);
  std::cout << "churn: fds " << fds_before << " -> " << fds_after << ", RSS KiB " << rss_before
            << " -> " << rss_after << ", files attached " << summary.at("files_attached")
            << ", detached " << summary.at("files_detached") << std::endl;
}

}  // namespace
}  // namespace llmtap::e2e
