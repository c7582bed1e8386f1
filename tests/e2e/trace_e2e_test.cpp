// End to end, as root: real clients (curl, python3, node) talk TLS to a local LLM-like server
// while the real `llmtap trace` runs; what it reports must equal, byte for byte, what the
// server received and sent on each of the client's connections.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "bpf_gate.h"
#include "child_process.h"
#include "tls_test_server.h"
#include "trace_session.h"

namespace llmtap::e2e {
namespace {

namespace fs = std::filesystem;
using testing::ServerConnectionRecord;
using testing::TlsTestServer;

constexpr uint32_t kOneMiB = 1u << 20;

std::string source_path(const std::string& rel) { return std::string(LLMTAP_SOURCE_DIR) + "/" + rel; }

std::string node_path() {
  for (const char* p : {"/usr/bin/node", "/usr/local/bin/node"}) {
    if (fs::exists(p)) return fs::canonical(p);
  }
  return {};
}

struct Fixture {
  fs::path dir;
  std::unique_ptr<TlsTestServer> server;

  Fixture() {
    dir = fs::temp_directory_path() / ("llmtap-e2e-" + std::to_string(getpid()));
    fs::create_directories(dir);
    testing::write_self_signed_certificate(dir / "cert.pem", dir / "key.pem");
    testing::TlsTestServerOptions options;
    options.cert_file = dir / "cert.pem";
    options.key_file = dir / "key.pem";
    server = std::make_unique<TlsTestServer>(options);
  }
  ~Fixture() {
    server.reset();
    fs::remove_all(dir);
  }
  std::string url() const {
    return "https://127.0.0.1:" + std::to_string(server->port()) + "/v1/chat/completions";
  }
  std::string server_endpoint() const { return "127.0.0.1:" + std::to_string(server->port()); }
};

// Client command lines. Each sends `requests` POSTs of `body` bytes on one keep-alive
// connection and asks for `response` body bytes back.
std::vector<std::string> curl_command(const Fixture& f, uint32_t body, uint32_t response) {
  const fs::path body_file = f.dir / ("body-" + std::to_string(body));
  if (!fs::exists(body_file)) std::ofstream(body_file, std::ios::binary) << std::string(body, 'c');
  return {"curl",         "-sSk", "--http1.1", "-o", "/dev/null", "-H", "Expect:",
          "-H",           "Content-Type: application/json",
          "-H",           "x-response-bytes: " + std::to_string(response),
          "--data-binary", "@" + body_file.string(), f.url()};
}

std::vector<std::string> python_command(const Fixture& f, uint32_t requests, uint32_t body,
                                        uint32_t response) {
  return {"python3", source_path("tests/clients/python_client.py"), "--host", "127.0.0.1",
          "--port", std::to_string(f.server->port()), "--requests", std::to_string(requests),
          "--body-bytes", std::to_string(body), "--response-bytes", std::to_string(response)};
}

std::vector<std::string> node_command(const Fixture& f, uint32_t requests, uint32_t body,
                                      uint32_t response) {
  return {node_path(), source_path("tests/clients/node_client.js"), "--host", "127.0.0.1",
          "--port", std::to_string(f.server->port()), "--requests", std::to_string(requests),
          "--body-bytes", std::to_string(body), "--response-bytes", std::to_string(response)};
}

// Runs `argv` and returns the server connections it made (all closed) and its pid.
struct ClientRun {
  pid_t pid = -1;
  std::vector<ServerConnectionRecord> connections;
};

ClientRun run_client(Fixture& f, const std::vector<std::string>& argv) {
  const size_t before = f.server->connections().size();
  ClientRun run;
  const ChildResult result = run_child(argv, &run.pid);
  EXPECT_EQ(result.exit_code, 0) << argv[0] << " failed: " << result.err << result.out;
  const auto all_before_wait = f.server->connections().size();
  f.server->wait_for_closed_connections(all_before_wait, std::chrono::seconds(10));
  auto all = f.server->connections();
  run.connections.assign(all.begin() + static_cast<long>(before), all.end());
  EXPECT_FALSE(run.connections.empty()) << argv[0] << " made no connection";
  return run;
}

uint64_t total_bytes(const std::vector<ServerConnectionRecord>& connections) {
  uint64_t n = 0;
  for (const auto& c : connections) n += c.received.size() + c.sent.size();
  return n;
}

// The heart of the capture contract: per connection, the client's captured writes are what
// the server read and its captured reads are what the server wrote.
void expect_byte_exact(const TraceSession& trace, const Fixture& f, const ClientRun& run,
                       const std::string& comm) {
  const auto events = trace.wait_for_bytes(run.pid, total_bytes(run.connections));
  ASSERT_FALSE(events.empty()) << "no event for pid " << run.pid;
  std::set<std::string> client_endpoints;
  for (const auto& c : run.connections) {
    const std::string src = "127.0.0.1:" + std::to_string(c.peer_port);
    client_endpoints.insert(src);
    const std::string writes = concat_data(events, "write", src);
    const std::string reads = concat_data(events, "read", src);
    EXPECT_EQ(writes.size(), c.received.size()) << comm << " writes on " << src;
    EXPECT_TRUE(writes == c.received) << comm << " captured writes differ on " << src;
    EXPECT_EQ(reads.size(), c.sent.size()) << comm << " reads on " << src;
    EXPECT_TRUE(reads == c.sent) << comm << " captured reads differ on " << src;
  }
  for (const auto& e : events) {
    EXPECT_EQ(e.comm, comm);
    EXPECT_EQ(e.dst, f.server_endpoint());
    EXPECT_TRUE(client_endpoints.contains(e.src)) << "unexpected src " << e.src;
    EXPECT_FALSE(e.truncated);
    EXPECT_EQ(e.lost, 0u);
    EXPECT_EQ(e.len, e.data.size());
  }
}

// One trace session and one server for the byte-exactness tests.
class TraceE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fixture_ = new Fixture();
    if (geteuid() != 0) return;
    std::vector<std::string> args = {"--max-bytes", std::to_string(4 * kOneMiB)};
    if (!node_path().empty()) args.insert(args.end(), {"--lib", node_path()});
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
  } else {
    if (node_path().empty()) GTEST_SKIP() << "node not installed";
    argv = node_command(*fixture_, 2, bytes, bytes);
  }
  const ClientRun run = run_client(*fixture_, argv);
  expect_byte_exact(*trace_, *fixture_, run, comm);
  if (bytes == kOneMiB && client != "curl") {
    // python and node hand the whole body to one SSL_write: it must arrive as one event,
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
                      SizeCase{"node", kOneMiB}),
    [](const auto& info) {
      return info.param.client + "_" + std::to_string(info.param.bytes) + "_bytes";
    });

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
    EXPECT_EQ(received.substr(offset, e.data.size()), e.data) << "a truncated event keeps the prefix";
    offset += e.len;
    saw_truncated |= e.truncated;
  }
  EXPECT_TRUE(saw_truncated);
  EXPECT_GE(summary.at("truncated_calls"), 1u);
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

TEST(TraceCommand, RejectsAFileWithoutTls) {
  LLMTAP_REQUIRE_ROOT();
  const ChildResult r = run_child({llmtap_binary(), "trace", "--lib", "/bin/true"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("none of the TLS functions"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace llmtap::e2e
