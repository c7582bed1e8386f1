#include "action/enforcer.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "action/socket_destroyer.h"
#include "capture/process_resume.h"

namespace llmtap::action {
namespace {

using policy::Action;
using policy::Finding;
using policy::RuleMode;

// A child that sleeps until killed, with its start time as the capture would give it.
struct Sleeper {
  pid_t pid = -1;
  uint64_t start_boottime_ns = 0;
  Sleeper() {
    pid = fork();
    if (pid == 0) {
      for (;;) pause();
    }
    const auto ticks = capture::process_start_ticks(pid);
    start_boottime_ns = ticks.value_or(0) * (1'000'000'000ull / sysconf(_SC_CLK_TCK));
  }
  ~Sleeper() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  // How it ended: the signal that killed it, or 0 while it lives.
  int ended_by() {
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return WIFSIGNALED(status) ? WTERMSIG(status) : -1;
      }
      usleep(5000);
    }
    return 0;
  }
};

Finding finding_for(pid_t pid, uint64_t start_boottime_ns, Action action) {
  Finding f;
  f.rule_id = "r";
  f.action = action;
  f.call.process.pid = static_cast<uint32_t>(pid);
  f.call.process.start_boottime_ns = start_boottime_ns;
  f.call.process.comm = "sleeper";
  f.call.process.exe = "/usr/bin/sleeper";
  f.call.start_mono_ns = 1;
  return f;
}

// Root only (CI runs as root): a non-root run can kill its own children too, so this runs
// either way.
TEST(Enforcer, KillProcessKillsThatProcessAndOnlyIt) {
  Sleeper s;
  Finding f = finding_for(s.pid, s.start_boottime_ns, Action::kKillProcess);
  Enforcer enforcer;
  enforcer.act(f);
  ASSERT_TRUE(f.outcome);
  EXPECT_TRUE(f.outcome->attempted);
  EXPECT_TRUE(f.outcome->succeeded) << f.outcome->error;
  EXPECT_FALSE(f.outcome->audit);
  EXPECT_EQ(s.ended_by(), SIGKILL);
  EXPECT_GT(f.outcome->capture_to_action_ns, 0u);
  EXPECT_EQ(enforcer.stats().processes_killed, 1u);
}

TEST(Enforcer, KillProcessNeverHitsAReusedPid) {
  Sleeper s;
  // The finding names a process that started a second earlier at the same pid: not this one.
  Finding f = finding_for(s.pid, s.start_boottime_ns - 1'000'000'000ull, Action::kKillProcess);
  Enforcer enforcer;
  enforcer.act(f);
  ASSERT_TRUE(f.outcome);
  EXPECT_FALSE(f.outcome->succeeded);
  EXPECT_NE(f.outcome->error.find("another process"), std::string::npos) << f.outcome->error;
  EXPECT_EQ(s.ended_by(), 0);  // still alive
  // Without a start time nothing is attempted.
  Finding unknown = finding_for(s.pid, 0, Action::kKillProcess);
  enforcer.act(unknown);
  EXPECT_FALSE(unknown.outcome->attempted);
  EXPECT_EQ(s.ended_by(), 0);
}

TEST(Enforcer, AuditModeTouchesNothing) {
  Sleeper s;
  for (const bool global_audit : {true, false}) {
    Finding f = finding_for(s.pid, s.start_boottime_ns, Action::kKillProcess);
    if (!global_audit) f.mode = RuleMode::kAudit;
    EnforcerOptions options;
    options.audit = global_audit;
    Enforcer enforcer(options);
    enforcer.act(f);
    ASSERT_TRUE(f.outcome);
    EXPECT_TRUE(f.outcome->audit);
    EXPECT_FALSE(f.outcome->attempted);
    EXPECT_EQ(enforcer.stats().would, 1u);
  }
  EXPECT_EQ(s.ended_by(), 0);
}

TEST(Enforcer, NeverTouchListIsHonoured) {
  Sleeper s;
  Finding f = finding_for(s.pid, s.start_boottime_ns, Action::kKillProcess);
  EnforcerOptions options;
  options.never_touch = {"sleep*"};
  Enforcer enforcer(options);
  enforcer.act(f);
  EXPECT_FALSE(f.outcome->attempted);
  EXPECT_NE(f.outcome->error.find("never-touch"), std::string::npos);
  EXPECT_EQ(s.ended_by(), 0);
  Finding alert = finding_for(s.pid, s.start_boottime_ns, Action::kAlert);
  enforcer.act(alert);
  EXPECT_FALSE(alert.outcome);
}

TEST(Enforcer, TheServingSideIsNeverTheTarget) {
  Sleeper s;
  Finding f = finding_for(s.pid, s.start_boottime_ns, Action::kKillProcess);
  f.call.served = true;  // an LLM server on this host, captured answering
  Enforcer enforcer;
  enforcer.act(f);
  ASSERT_TRUE(f.outcome);
  EXPECT_FALSE(f.outcome->attempted);
  EXPECT_NE(f.outcome->error.find("serving side"), std::string::npos);
  EXPECT_EQ(s.ended_by(), 0);
}

// A loopback TCP connection: both ends in this process.
struct LoopbackPair {
  int listener = -1, client = -1, server = -1;
  capture::Endpoint client_end, server_end;
  LoopbackPair() {
    listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(listener, 1);
    socklen_t len = sizeof(a);
    getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
    client = socket(AF_INET, SOCK_STREAM, 0);
    connect(client, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    server = accept(listener, nullptr, nullptr);
    sockaddr_in c{};
    len = sizeof(c);
    getsockname(client, reinterpret_cast<sockaddr*>(&c), &len);
    client_end.family = AF_INET;
    client_end.port = ntohs(c.sin_port);
    std::memcpy(client_end.addr.data(), &c.sin_addr, 4);
    server_end.family = AF_INET;
    server_end.port = ntohs(a.sin_port);
    std::memcpy(server_end.addr.data(), &a.sin_addr, 4);
  }
  ~LoopbackPair() {
    for (int fd : {listener, client, server}) close(fd);
  }
};

TEST(SocketDestroyer, TheOwnerSeesAResetAndNothingMoreArrives) {
  LoopbackPair p;
  const DestroyResult r = destroy_tcp_connection(p.client_end, p.server_end);
  ASSERT_TRUE(r.destroyed) << r.message;
  char byte = 0;
  errno = 0;
  EXPECT_LT(recv(p.client, &byte, 1, 0), 0);
  EXPECT_EQ(errno, ECONNABORTED);
  EXPECT_LT(send(p.client, "x", 1, MSG_NOSIGNAL), 0);
  // Gone now: a second destroy finds nothing.
  const DestroyResult again = destroy_tcp_connection(p.client_end, p.server_end);
  EXPECT_FALSE(again.destroyed);
  EXPECT_EQ(again.error, ENOENT);
}

TEST(Enforcer, KillConnectionResetsTheCallsConnectionOnce) {
  LoopbackPair p;
  Finding f;
  f.rule_id = "r";
  f.action = Action::kKillConnection;
  f.call.process.pid = static_cast<uint32_t>(getppid());  // any process that may be touched
  f.call.process.comm = "client";
  f.call.conn_id = 77;
  f.call.local = p.client_end;
  f.call.remote = p.server_end;
  Enforcer enforcer;
  enforcer.act(f);
  ASSERT_TRUE(f.outcome);
  EXPECT_TRUE(f.outcome->succeeded) << f.outcome->error;
  EXPECT_NE(f.outcome->target.find("127.0.0.1:"), std::string::npos);
  char byte = 0;
  EXPECT_LT(recv(p.client, &byte, 1, 0), 0);
  Finding again = f;
  again.outcome.reset();
  enforcer.act(again);
  EXPECT_EQ(again.outcome->error, "already reset");
  EXPECT_EQ(enforcer.stats().connections_reset, 1u);
}

}  // namespace
}  // namespace llmtap::action
