// End to end, as root: real clients (curl, python3, node) talk TLS to a local LLM-like server
// while the real `llmtap trace` runs; what it reports must equal, byte for byte, what the
// server received and sent on each of the client's connections.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "bpf_gate.h"
#include "capture/wall_clock.h"
#include "child_process.h"
#include "e2e_fixture.h"
#include "llmtap_abi.h"

namespace llmtap::e2e {
namespace {

namespace fs = std::filesystem;

// One trace session and one server for the byte-exactness tests.
class TraceE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fixture_ = new Fixture();
    if (geteuid() != 0) return;
    // Host-wide: no --lib, no --pid. The static client is found at exec, libssl as a system
    // library.
    std::vector<std::string> args = {"--max-bytes", std::to_string(4 * kOneMiB)};
    try {
      trace_ = new TraceSession(args);
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    if (trace_ != nullptr) {
      const auto summary = trace_->stop();
      EXPECT_EQ(summary.at("lost_bytes"), 0u);
      delete trace_;
      trace_ = nullptr;
    }
    delete fixture_;
    fixture_ = nullptr;
  }
  void SetUp() override {
    LLMTAP_REQUIRE_ROOT();
    if (trace_ == nullptr) LLMTAP_BPF_UNAVAILABLE(start_error_);
  }

  static inline Fixture* fixture_ = nullptr;
  static inline TraceSession* trace_ = nullptr;
  static inline std::string start_error_;
};

struct SizeCase {
  std::string client;
  uint32_t bytes;
};

class TraceSizes : public TraceE2E, public ::testing::WithParamInterface<SizeCase> {};

TEST_P(TraceSizes, ClientBytesAreCapturedExactly) {
  const auto& [client, bytes] = GetParam();
  std::vector<std::string> argv;
  std::string comm = client;
  if (client == "curl") {
    argv = curl_command(*fixture_, bytes, bytes);
  } else if (client == "python3") {
    argv = python_command(*fixture_, 2, bytes, bytes);
  } else if (client == "static" || client == "static_ex") {
    argv = static_openssl_command(*fixture_, 2, bytes, bytes, client == "static_ex");
    comm = kStaticOpensslComm;
  } else {
    if (node_path().empty()) GTEST_SKIP() << "node not installed";
    argv = node_command(*fixture_, 2, bytes, bytes);
  }
  const ClientRun run = run_client(*fixture_, argv);
  expect_byte_exact(*trace_, *fixture_, run, comm);
  if (bytes == kOneMiB && client != "curl") {
    // python, node and the static client hand the whole body to one SSL_write: it must arrive
    // as one event,
    // joined from its ring-buffer pieces (curl writes in 64 KiB pieces).
    bool whole = false;
    for (const auto& e : trace_->events_for(run.pid)) {
      whole |= e.direction == "write" && e.len >= kOneMiB && e.data.size() == e.len;
    }
    EXPECT_TRUE(whole) << "no single write event carried the 1 MiB body";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Clients, TraceSizes,
    ::testing::Values(SizeCase{"curl", 1}, SizeCase{"curl", 16385}, SizeCase{"curl", kOneMiB},
                      SizeCase{"python3", 1}, SizeCase{"python3", 16385},
                      SizeCase{"python3", kOneMiB}, SizeCase{"node", 1}, SizeCase{"node", 16385},
                      SizeCase{"node", kOneMiB}, SizeCase{"static", 1}, SizeCase{"static", 16385},
                      SizeCase{"static", kOneMiB}, SizeCase{"static_ex", 1},
                      SizeCase{"static_ex", kOneMiB}),
    [](const auto& info) {
      return info.param.client + "_" + std::to_string(info.param.bytes) + "_bytes";
    });

// The CALL record that ends each call reserves its tail in one of a list of size classes (the
// ring's footprint is the traced process's cost, so they fit closely). Every class, at its
// largest tail and at the smallest of the next, must carry the bytes exactly. The static
// client writes a request's body in one SSL_write of exactly --body-bytes.
TEST_F(TraceE2E, EveryTailSizeClassCarriesItsBytesExactly) {
  constexpr uint64_t kChunk = LLMTAP_CHUNK_SIZE;
#define LLMTAP_TEST_CLASS(C) uint64_t{C},
  const std::vector<uint64_t> classes = {LLMTAP_TAIL_CLASSES(LLMTAP_TEST_CLASS)};
#undef LLMTAP_TEST_CLASS
  ASSERT_EQ(classes.back(), kChunk);
  std::set<uint64_t> tails;
  for (const uint64_t c : classes) {
    for (const uint64_t body : {c, c + 1}) {
      const ClientRun run = run_client(
          *fixture_, static_openssl_command(*fixture_, 1, static_cast<uint32_t>(body), 64, false));
      expect_byte_exact(*trace_, *fixture_, run, kStaticOpensslComm);
      bool seen = false;
      for (const auto& e : trace_->events_for(run.pid)) {
        if (e.direction != "write" || e.len != body) continue;
        seen = true;
        tails.insert(body - kChunk * ((body - 1) / kChunk));
      }
      EXPECT_TRUE(seen) << "no write of " << body << " bytes";
    }
  }
  for (size_t i = 0; i < classes.size(); ++i) {
    EXPECT_TRUE(tails.contains(classes[i])) << "class " << classes[i] << " never full";
    if (i + 1 < classes.size()) {
      EXPECT_TRUE(tails.contains(classes[i] + 1)) << "class " << classes[i + 1] << " never entered";
    }
  }
  EXPECT_TRUE(tails.contains(1)) << "a call one byte over a chunk: a DATA record, then a tail of 1";
}

TEST_F(TraceE2E, EventsCarryProcessIdentity) {
  const ClientRun run = run_client(*fixture_, python_command(*fixture_, 1, 100, 100));
  const auto events = trace_->wait_for_bytes(run.pid, total_bytes(run.connections));
  ASSERT_FALSE(events.empty());
  for (const auto& e : events) {
    EXPECT_EQ(e.json["uid"], geteuid());
    EXPECT_GT(e.json["tid"].get<uint64_t>(), 0u);
    EXPECT_GT(e.json["cgroup_id"].get<uint64_t>(), 0u);
    EXPECT_GE(e.json["conn"]["fd"].get<int>(), 0);
    EXPECT_EQ(e.json["lib"], "openssl");
    EXPECT_TRUE(e.json["conn"]["ssl"].get<std::string>().starts_with("0x"));
    // Wall clock: within a minute of now.
    const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    EXPECT_LT(std::llabs(static_cast<long long>(e.json["time_ns"].get<uint64_t>()) - now),
              60'000'000'000LL);
  }
}

// Runs in its own session so the loss counters speak of this burst alone.
TEST(TraceBurst, TwoThousandKeepAliveRequestsLoseNothing) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  std::optional<TraceSession> trace;
  try {
    trace.emplace(std::vector<std::string>{});
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  const ClientRun run = run_client(f, python_command(f, 2000, 1024, 1024));
  expect_byte_exact(*trace, f, run, "python3");
  EXPECT_EQ(trace->events_for(run.pid).size() >= 4000u, true);
  const auto summary = trace->stop();
  EXPECT_EQ(trace->exit_code(), 0);
  EXPECT_EQ(summary.at("lost_bytes"), 0u);
  EXPECT_EQ(summary.at("lost_calls"), 0u);
  EXPECT_EQ(summary.at("lost_records"), 0u);
  EXPECT_EQ(summary.at("orphaned_records"), 0u);
}

// A deliberately tiny ring buffer: losses happen, and the counter accounts for every missing
// byte: captured + lost == what the client really sent and received.
TEST(TraceLoss, LossCounterEqualsWhatIsMissing) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  ChildProcess client(python_command(f, 40, 64 * 1024, 64 * 1024));
  const size_t before = f.server->connections().size();
  std::optional<TraceSession> trace;
  try {
    trace.emplace(std::vector<std::string>{"--pid", std::to_string(client.pid()),
                                           "--ring-buffer-size", "65536"});
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  const ChildResult result = client.wait();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  f.server->wait_for_closed_connections(before + 1, std::chrono::seconds(10));
  const auto connections = f.server->connections();
  uint64_t real = 0;
  for (size_t i = before; i < connections.size(); ++i) {
    real += connections[i].received.size() + connections[i].sent.size();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto summary = trace->stop();
  uint64_t captured = 0;
  for (const auto& e : trace->events_for(client.pid())) {
    captured += e.data.size();
    EXPECT_EQ(e.data.size() + e.lost, e.len) << "an event's lost field must cover its gap";
  }
  EXPECT_GT(summary.at("lost_bytes"), 0u) << "the tiny ring buffer should have overflowed";
  EXPECT_EQ(captured + summary.at("lost_bytes"), real)
      << "captured " << captured << " + lost " << summary.at("lost_bytes") << " != real " << real;
  EXPECT_EQ(summary.at("bytes"), captured) << "the kernel's count and the events must agree";
}

TEST(TraceTruncation, CallsOverMaxBytesAreMarkedTruncated) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  ChildProcess client(curl_command(f, 5000, 100));
  std::optional<TraceSession> trace;
  try {
    trace.emplace(
        std::vector<std::string>{"--pid", std::to_string(client.pid()), "--max-bytes", "1000"});
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  ASSERT_EQ(client.wait().exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto summary = trace->stop();
  const auto events = trace->events_for(client.pid());
  ASSERT_FALSE(events.empty());
  const std::string received = f.server->connections().back().received;
  bool saw_truncated = false;
  size_t offset = 0;
  for (const auto& e : events) {
    if (e.direction != "write") continue;
    EXPECT_EQ(e.data.size(), std::min<uint64_t>(e.len, 1000));
    EXPECT_EQ(e.truncated, e.len > 1000);
    EXPECT_EQ(received.substr(offset, e.data.size()), e.data)
        << "a truncated event keeps the prefix";
    offset += e.len;
    saw_truncated |= e.truncated;
  }
  EXPECT_TRUE(saw_truncated);
  EXPECT_GE(summary.at("truncated_calls"), 1u);
}

// While nothing comes, the capture loop sleeps 250 ms a round (capture::PollPacer); the first
// record wakes it, because the programs submit with a forced wakeup while the reader says it is
// idle. Both halves: the loop's wakeups in 2 s of silence (about 8; 100 when it looked every
// 20 ms), and how long each request of a client that pauses between requests takes from its
// SSL_write to llmtap's stdout (a few ms; up to 250 when the record waits for the timer).
TEST(TraceIdle, SleepsWhileNothingComesAndWakesAtOnceForACall) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  constexpr int kRequests = 7;
  std::vector<std::string> argv = python_command(f, kRequests, 256, 256);
  argv.insert(argv.end(), {"--pause-ms", "700"});
  ChildProcess client(argv);
  std::optional<TraceSession> trace;
  try {
    trace.emplace(std::vector<std::string>{"--pid", std::to_string(client.pid())});
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const uint64_t switches_before = context_switches(trace->pid());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const uint64_t idle_wakeups = context_switches(trace->pid()) - switches_before;
  EXPECT_LT(idle_wakeups, 20u) << "the capture loop should sleep while nothing comes";

  // Each write event's arrival on stdout, seen by looking every millisecond.
  client.release();
  std::vector<std::pair<uint64_t, uint64_t>> writes;  // (mono_ns of the call, seen at)
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool exited = false;
  while (std::chrono::steady_clock::now() < give_up) {
    const uint64_t now = capture::monotonic_now_ns();
    size_t seen = 0;
    for (const TraceEvent& e : trace->events_for(client.pid())) {
      if (e.direction != "write") continue;
      if (seen++ < writes.size()) continue;
      writes.emplace_back(e.json.at("mono_ns").get<uint64_t>(), now);
    }
    if (exited) break;  // one more look after the exit
    exited = client.poll_exit().has_value();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const ChildResult result = client.wait();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto times = nlohmann::json::parse(result.out).at("request_times_ns");
  ASSERT_EQ(times.size(), static_cast<size_t>(kRequests));
  std::vector<uint64_t> delays_ms;
  for (const auto& t : times) {
    // The request's first write: the first write event from its time on.
    const auto first = std::find_if(writes.begin(), writes.end(), [&](const auto& w) {
      return w.first >= t.get<uint64_t>();
    });
    ASSERT_NE(first, writes.end()) << "no write event for a request";
    delays_ms.push_back((first->second - first->first) / 1'000'000);
  }
  std::vector<uint64_t> sorted = delays_ms;
  std::sort(sorted.begin(), sorted.end());
  std::string text;
  for (uint64_t d : delays_ms) text += std::to_string(d) + " ";
  EXPECT_LT(sorted[kRequests / 2], 40u)
      << "a call after a pause should wake the capture loop at once; delays (ms): " << text;
  trace->stop();
  EXPECT_EQ(trace->exit_code(), 0);
}

TEST(TraceCommand, StopsAfterDuration) {
  LLMTAP_REQUIRE_ROOT();
  std::optional<TraceSession> trace;
  const auto start = std::chrono::steady_clock::now();
  try {
    trace.emplace(std::vector<std::string>{"--duration", "1"});
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  for (int i = 0; i < 100 && trace->stderr_text().find("summary:") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(trace->stderr_text().find("summary:"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  trace->stop();
  EXPECT_EQ(trace->exit_code(), 0);
}

// Started with fewer capabilities than it uses (here without CAP_KILL and CAP_NET_ADMIN, as a
// cut-down DaemonSet would), llmtap still captures and names what it lacks and what for; without
// CAP_BPF and CAP_SYS_ADMIN it cannot start, and says so.
TEST(TraceCommand, NamesTheCapabilitiesItLacks) {
  LLMTAP_REQUIRE_ROOT();
  const ChildResult cut = run_child({"setpriv", "--inh-caps=-all", "--bounding-set=-kill,-net_admin",
                                     llmtap_binary(), "trace", "--duration", "1"},
                                    nullptr, std::chrono::seconds(60));
  if (cut.exit_code != 0 && !bpf_required()) LLMTAP_BPF_UNAVAILABLE(cut.err);
  EXPECT_EQ(cut.exit_code, 0) << cut.err;
  EXPECT_NE(cut.err.find("running without CAP_KILL (resume processes llmtap held; kill-process "
                         "actions), CAP_NET_ADMIN (destroy sockets"),
            std::string::npos)
      << cut.err;
  const ChildResult none = run_child({"setpriv", "--inh-caps=-all",
                                      "--bounding-set=-bpf,-sys_admin", llmtap_binary(),
                                      "trace", "--duration", "1"},
                                     nullptr, std::chrono::seconds(60));
  EXPECT_EQ(none.exit_code, 2) << none.err;
  EXPECT_NE(none.err.find("llmtap needs CAP_BPF"), std::string::npos) << none.err;
}

// The names of the BPF programs a running process holds (its descriptors' prog_id).
std::set<std::string> bpf_programs_of(pid_t pid) {
  std::set<uint64_t> ids;
  const std::filesystem::path fds = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& entry : std::filesystem::directory_iterator(fds)) {
    std::error_code ec;
    if (std::filesystem::read_symlink(entry.path(), ec).string() != "anon_inode:bpf-prog") continue;
    std::ifstream info("/proc/" + std::to_string(pid) + "/fdinfo/" +
                       entry.path().filename().string());
    for (std::string line; std::getline(info, line);) {
      if (line.rfind("prog_id:", 0) == 0) ids.insert(std::stoull(line.substr(8)));
    }
  }
  const ChildResult r = run_child({"bpftool", "-j", "prog", "show"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> names;
  for (const auto& prog : nlohmann::json::parse(r.out)) {
    if (ids.contains(prog.value("id", uint64_t{0}))) names.insert(prog.value("name", ""));
  }
  return names;
}

TEST(TraceCommand, TakesNoSyscallTracepointWhereTheSocketLayerHasItsOwn) {
  // Attaching any syscall tracepoint sends every syscall of every task down the slow path
  // (docs/capture-cost.md): on 6.3+ none is loaded; --syscall-hooks (as before 6.3) loads them.
  LLMTAP_REQUIRE_ROOT();
  if (std::getenv("LLMTAP_TEST_SYSCALL_HOOKS") != nullptr) GTEST_SKIP() << "syscall hooks forced";
  if (!std::filesystem::exists("/sys/kernel/tracing/events/sock/sock_send_length") &&
      !std::filesystem::exists("/sys/kernel/debug/tracing/events/sock/sock_send_length")) {
    GTEST_SKIP() << "kernel before 6.3: the syscall tracepoints are the only way";
  }
  for (const bool forced : {false, true}) {
    std::optional<TraceSession> trace;
    try {
      trace.emplace(forced ? std::vector<std::string>{"--syscall-hooks"}
                           : std::vector<std::string>{});
    } catch (const std::exception& e) {
      LLMTAP_BPF_UNAVAILABLE(e.what());
    }
    const auto programs = bpf_programs_of(trace->pid());
    ASSERT_FALSE(programs.empty()) << "bpftool names no program of llmtap";
    size_t syscall_programs = 0;
    for (const auto& name : programs) syscall_programs += name.rfind("tp_enter_", 0) == 0;
    if (forced) {
      EXPECT_EQ(syscall_programs, 10u) << trace->stderr_text();
      EXPECT_NE(trace->stderr_text().find("sockets from syscalls hooks"), std::string::npos);
    } else {
      EXPECT_EQ(syscall_programs, 0u) << "a syscall tracepoint program is loaded";
      EXPECT_TRUE(programs.contains("rtp_sock_send") && programs.contains("rtp_sock_recv") &&
                  programs.contains("dl_debug_state"));
      EXPECT_NE(trace->stderr_text().find("sockets from socket hooks"), std::string::npos);
    }
  }
}

TEST(TraceCommand, RejectsAFileWithoutTls) {
  LLMTAP_REQUIRE_ROOT();
  const ChildResult r = run_child({llmtap_binary(), "trace", "--lib", "/bin/true"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("none of the TLS functions"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace llmtap::e2e
