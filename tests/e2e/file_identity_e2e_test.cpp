// End to end, as root: a file is the same file only if it is the same inode *incarnation*.
// ext4 hands a deleted file's inode number to the next file at once; a binary that lands on
// a reused number must be examined and attached as the new file it is, and a non-TLS binary
// on the number of a TLS one must never get its probes. (docs/file-identity.md)
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "bpf_gate.h"
#include "child_process.h"
#include "e2e_fixture.h"

namespace llmtap::e2e {
namespace {

namespace fs = std::filesystem;

ino_t inode_of(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// Copies `source` to `target` so that the copy lands on inode `wanted`; false if it never
// does. ext4 gives a new file the lowest free number of its group, so a freed number comes
// back at once unless a lower one was freed too (by anything else on the machine): each miss
// keeps an empty placeholder on the number it got, next to `target`, until the wanted
// number is the lowest free one. And a number is free only once nothing holds the old inode
// (a uprobe does, until its link is gone, which takes an RCU grace period or more on a loaded
// machine): up to 30 s.
bool copy_onto_inode(const fs::path& source, const fs::path& target, ino_t wanted) {
  const std::string stem = target.string();
  const fs::path probe = stem + ".probe";
  std::vector<fs::path> holders;  // files only: a directory would take a number too
  bool landed = false;
  for (int attempt = 0; attempt < 150 && !landed; ++attempt) {
    for (int n = 0; n < 64 && !landed; ++n) {
      { std::ofstream create(probe); }
      const ino_t got = inode_of(probe);
      if (got != wanted) {  // keep the lower number taken
        holders.push_back(stem + ".held-" + std::to_string(got));
        fs::rename(probe, holders.back());
        continue;
      }
      fs::remove(probe);  // the wanted number is the lowest free one now: the copy takes it
      fs::copy_file(source, target, fs::copy_options::overwrite_existing);
      landed = inode_of(target) == wanted;
      if (!landed) fs::remove(target);
    }
    if (!landed) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (const fs::path& h : holders) fs::remove(h);
  return landed;
}

// Lines of `log` that contain both `what` and `path` (llmtap names a file by the path it
// reached it through, /proc/PID/root/...).
size_t count_lines(const std::string& log, const std::string& what, const std::string& path) {
  size_t n = 0;
  size_t start = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    const std::string_view line(log.data() + start, end - start);
    if (line.find(what) != std::string_view::npos && line.find(path) != std::string_view::npos) ++n;
    start = end + 1;
  }
  return n;
}

class FileIdentityE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    LLMTAP_REQUIRE_ROOT();
    // Under /var/tmp on the root filesystem: the inode reuse this is about is ext4's.
    dir_ = fs::path("/var/tmp") / ("llmtap-inodes-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void start(std::vector<std::string> args) {
    try {
      trace_.emplace(args);
    } catch (const std::exception& e) {
      LLMTAP_BPF_UNAVAILABLE(e.what());
    }
  }
  std::vector<std::string> client(const Fixture& f, const fs::path& binary, uint32_t delay_ms) {
    auto argv = static_openssl_command(f, 2, 3000, 2000);
    argv[0] = binary.string();
    argv.insert(argv.end(), {"--start-delay-ms", std::to_string(delay_ms)});
    return argv;
  }

  fs::path dir_;
  std::optional<TraceSession> trace_;
};

TEST_F(FileIdentityE2E, TlsBinaryOnTheReusedInodeOfANonTlsOneIsCaptured) {
  // The reproduction, with --no-hold: the client starts slowly enough (300 ms, as
  // node does) for an attach made at exec to be in place.
  start({"--no-hold"});
  Fixture f;
  const fs::path x = dir_ / "x";
  fs::copy_file("/usr/bin/curl", x);
  const ino_t reused = inode_of(x);
  ASSERT_EQ(run_child({x.string(), "-s", "-m", "1", "http://127.0.0.1:9/"}).exit_code, 7);
  fs::remove(x);
  ASSERT_TRUE(copy_onto_inode(LLMTAP_STATIC_OPENSSL_CLIENT, x, reused))
      << "the filesystem did not reuse inode " << reused << ": the test would prove nothing";
  const ClientRun run = run_client(f, client(f, x, 300));
  expect_byte_exact(*trace_, f, run, "x");
}

TEST_F(FileIdentityE2E, NonTlsBinaryOnTheReusedInodeOfAnAttachedOneGetsNoStaleProbes) {
  start({});
  Fixture f;
  const fs::path x = dir_ / "x";
  fs::copy_file(LLMTAP_STATIC_OPENSSL_CLIENT, x);
  const ino_t reused = inode_of(x);
  const ClientRun tls = run_client(f, client(f, x, 0));
  expect_byte_exact(*trace_, f, tls, "x");
  // Its only user exited: detached, then deleted; curl lands on its inode number.
  for (int i = 0; i < 100 && count_lines(trace_->stderr_text(), "detached", x.string()) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const bool detached = count_lines(trace_->stderr_text(), "detached", x.string()) > 0;
  fs::remove(x);
  // (A file still probed keeps its inode referenced: ext4 cannot hand its number out again.)
  ASSERT_TRUE(copy_onto_inode("/usr/bin/curl", x, reused))
      << "the filesystem did not reuse inode " << reused << " ("
      << (detached ? "x was detached" : "x was never detached: its probes hold the inode")
      << "): the test would prove nothing; llmtap's log:\n"
      << trace_->stderr_text();
  pid_t pid = -1;
  const ChildResult r =
      run_child({x.string(), "-sSk", "--http1.1", "-o", "/dev/null", f.url()}, &pid);
  EXPECT_EQ(r.exit_code, 0) << "curl on the reused inode failed: " << r.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // curl's own TLS is the system libssl (attached for good); nothing was attached to x.
  const std::string log = trace_->stderr_text();
  EXPECT_EQ(count_lines(log, "probes to", x.string()), 1u) << "x attached again: " << log;
  // And curl was captured as itself, through libssl.
  const auto events = trace_->wait_for_bytes(pid, 1);
  ASSERT_FALSE(events.empty());
  for (const auto& e : events) EXPECT_EQ(e.comm, "x");
}

TEST_F(FileIdentityE2E, BinaryReplacedInPlaceByAnUpgradeIsCaptured) {
  start({});
  Fixture f;
  const fs::path bin = dir_ / "agent-cli";
  fs::copy_file(LLMTAP_STATIC_OPENSSL_CLIENT, bin);
  expect_byte_exact(*trace_, f, run_client(f, client(f, bin, 0)), "agent-cli");
  // A package upgrade: the new version is written beside it and renamed over it.
  const fs::path staged = dir_ / ".agent-cli.new";
  fs::copy_file(LLMTAP_STATIC_OPENSSL_CLIENT, staged);
  fs::rename(staged, bin);
  expect_byte_exact(*trace_, f, run_client(f, client(f, bin, 0)), "agent-cli");
  // And with `install`, which writes the destination anew.
  ASSERT_EQ(
      run_child({"install", "-m", "755", LLMTAP_STATIC_OPENSSL_CLIENT, bin.string()}).exit_code, 0);
  expect_byte_exact(*trace_, f, run_client(f, client(f, bin, 0)), "agent-cli");
}

TEST_F(FileIdentityE2E, AttachedBinaryWhoseMetadataChangesIsNotAttachedTwice) {
  start({});
  Fixture f;
  const fs::path bin = dir_ / "tool";
  fs::copy_file(LLMTAP_STATIC_OPENSSL_CLIENT, bin);
  // A long-running user keeps it attached while its change time moves (chmod).
  auto holder = std::make_unique<ChildProcess>(std::vector<std::string>{
      bin.string(), "--host", f.bind_address, "--port", std::to_string(f.server->port()),
      "--start-delay-ms", "3000", "--connect-only"});
  holder->release();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  fs::permissions(bin, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  const ClientRun run = run_client(f, client(f, bin, 0));
  expect_byte_exact(*trace_, f, run, "tool");  // once each: not doubled by a second attach
  holder->wait();
  const auto summary = trace_->stop();
  EXPECT_GE(summary.at("reincarnations"), 1u);
  EXPECT_EQ(count_lines(trace_->stderr_text(), "probes to", bin.string()), 1u)
      << "attached twice: " << trace_->stderr_text();
}

}  // namespace
}  // namespace llmtap::e2e
