#include "action/touch_guard.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace llmtap::action {
namespace {

namespace fs = std::filesystem;

// A fake /proc with one process: "pid (comm) S ppid ... flags".
class FakeProc {
 public:
  FakeProc() : root_(fs::temp_directory_path() / ("llmtap-proc-" + std::to_string(getpid()))) {
    fs::create_directories(root_);
  }
  ~FakeProc() { fs::remove_all(root_); }
  void add(pid_t pid, const std::string& comm, pid_t ppid, unsigned long flags) {
    fs::create_directories(root_ / std::to_string(pid));
    std::ofstream(root_ / std::to_string(pid) / "stat")
        << pid << " (" << comm << ") S " << ppid << " 1 1 0 -1 " << flags << " 0 0 0 0\n";
  }
  std::string root() const { return root_.string(); }

 private:
  fs::path root_;
};

TEST(TouchGuard, NeverPidOneItselfOrKernelThreads) {
  FakeProc proc;
  proc.add(4242, "kworker/0:1", 2, 0x00200040);
  proc.add(4343, "odd-kthread", 100, 0x00200000);
  const TouchGuard guard({}, proc.root());
  EXPECT_TRUE(guard.refusal(1, "systemd", "/usr/lib/systemd/systemd"));
  EXPECT_TRUE(guard.refusal(getpid(), "llmtap", ""));
  EXPECT_TRUE(guard.refusal(0, "", ""));
  EXPECT_TRUE(guard.refusal(2, "kthreadd", ""));
  EXPECT_TRUE(guard.refusal(4242, "kworker/0:1", ""));
  EXPECT_TRUE(guard.refusal(4343, "odd-kthread", ""));
}

TEST(TouchGuard, TheNeverTouchListByNameAndByPath) {
  FakeProc proc;
  for (pid_t pid : {5000, 5001, 5002, 5003, 5004}) proc.add(pid, "x", 100, 0);
  const TouchGuard guard({"/opt/payments/*", "billing-*"}, proc.root());
  EXPECT_TRUE(guard.refusal(5000, "containerd-shim-runc-v2", ""));
  EXPECT_TRUE(guard.refusal(5001, "kubelet", "/usr/bin/kubelet"));
  EXPECT_TRUE(guard.refusal(5002, "python3", "/opt/payments/bin/python3"));
  EXPECT_TRUE(guard.refusal(5003, "billing-sync", ""));
  EXPECT_FALSE(guard.refusal(5004, "python3", "/usr/bin/python3.11"));
  const auto why = guard.refusal(5001, "kubelet", "/usr/bin/kubelet");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("never-touch"), std::string::npos);
}

}  // namespace
}  // namespace llmtap::action
