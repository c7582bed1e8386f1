// End to end, as root: enforcement against real clients and a TLS server that records every
// byte it receives. Prevent mode (hold): a request carrying a fake AWS key reaches the server
// with zero bytes; an allowed one completes. kill-connection: the client of an unsanctioned
// model gets a connection error and no response. kill-process, audit mode, llmtap killed
// while a client is held: nothing is left stopped, and every event is valid OCSF.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "bpf_gate.h"
#include "child_process.h"
#include "e2e_fixture.h"
#include "llm_records.h"

namespace llmtap::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Fake values in real formats; none is a real credential.
const std::string kAwsKeyId = "AKIA2OGYBAH6RVPSVMXQ";
const std::string kAwsSecret = "Zq8mN3vB7xK1pL9wR4tY6uI2oP5aS0dF8gH3jK7l";

std::string policy_text(const std::string& action, const std::string& extra = "") {
  return R"(version: 1
rules:
  - id: block-cloud-keys
    severity: critical
    action: )" +
         action + "\n" + extra + R"(    data: {detectors: ["aws-*"]}
  - id: block-deepseek
    severity: high
    action: )" +
         (action == "hold" ? std::string("kill-connection") : action) + "\n" + extra +
         R"(    model: {deny: [{models: ["deepseek*"]}]}
)";
}

struct EnforcedRun {
  ChildResult client;
  std::vector<testing::ServerConnectionRecord> connections;  // the client's
  std::vector<json> findings;                                // 2004/2006 about the client
  TraceSummary summary;
  std::string err;
};

// Starts the daemon with `policy`, runs `client` (default: prompt_client.py with `requests`),
// stops the daemon.
EnforcedRun run_with_policy(Fixture& f, const std::string& policy, const json& requests,
                            std::vector<std::string> extra_args = {},
                            std::vector<std::string> client = {}) {
  EnforcedRun r;
  const fs::path catalog = f.dir / "catalog.yaml";
  const fs::path policy_file = f.dir / "policy.yaml";
  const fs::path request_file = f.dir / "requests.json";
  std::ofstream(catalog) << kLocalLlmCatalog;
  std::ofstream(policy_file) << policy;
  std::ofstream(request_file) << requests.dump();
  std::vector<std::string> args = {"--catalog", catalog.string(), "--policy", policy_file.string()};
  // The server is given, unless the test is about learning it (--hold-new-connections).
  if (std::find(extra_args.begin(), extra_args.end(), "--hold-new-connections") ==
      extra_args.end()) {
    args.insert(args.end(), {"--hold-endpoint", f.server_endpoint()});
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::optional<TraceSession> daemon;
  try {
    daemon.emplace(args, std::chrono::seconds(60), std::vector<std::string>{}, "daemon");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "daemon did not start: " << e.what();
    return r;
  }
  const size_t before = f.server->connections().size();
  pid_t pid = -1;
  if (client.empty()) {
    client = {"python3",    source_path("tests/clients/prompt_client.py"),
              "--port",     std::to_string(f.server->port()),
              "--requests", request_file.string()};
  }
  const bool client_is_shell = client.front() == "sh";
  r.client = run_child(client, &pid, std::chrono::seconds(30));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  r.summary = daemon->stop();
  r.err = daemon->stderr_text();
  const auto all = f.server->connections();
  r.connections.assign(all.begin() + static_cast<long>(before), all.end());
  // Every event of the run (actions in audit and enforce mode included) valid OCSF 1.9.0.
  const fs::path events = f.dir / "events.jsonl";
  std::ofstream(events) << daemon->stdout_text();
  const std::string validator = std::string(LLMTAP_SOURCE_DIR) + "/../shared/ocsf/validate.py";
  if (fs::exists(validator)) {
    const ChildResult v =
        run_child({"python3", validator, "--version", "1.9.0", "--quiet", events.string()});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  } else if (bpf_required()) {
    ADD_FAILURE() << "no OCSF validator at " << validator;
  }
  for (const auto& e : daemon->json_lines()) {
    const int cls = e.value("class_uid", 0);
    // The test policy's rules (the built-in pack's alerts are reported too, not counted).
    // A client run through `sh -c` makes its calls from children: any pid but the server's.
    const bool client_pid = client_is_shell ? e["actor"]["process"]["pid"] != getpid()
                                            : e["actor"]["process"]["pid"] == pid;
    if ((cls == 2004 || cls == 2006) && client_pid &&
        e["unmapped"]["llmtap"]["rule_id"].get<std::string>().starts_with("block-")) {
      r.findings.push_back(e);
    }
  }
  return r;
}

std::string received(const EnforcedRun& r) {
  std::string all;
  for (const auto& c : r.connections) all += c.received;
  return all;
}

TEST(EnforcementE2E, HoldStopsASecretBeforeAByteOfItLeaves) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  const json requests = json::array({{{"model", "gpt-4o"},
                                      {"prompt", "deploy with aws_access_key_id=" + kAwsKeyId +
                                                     "\naws_secret_access_key=" + kAwsSecret}}});
  const EnforcedRun r = run_with_policy(f, policy_text("hold"), requests);
  EXPECT_NE(r.client.exit_code, 0) << "the client's request went through: " << r.client.out;
  // python writes the request head, then its body: the head (judged clean: no prompt yet)
  // left; not one byte of the body, the secret's, did.
  const std::string got = received(r);
  EXPECT_EQ(got.find(kAwsKeyId), std::string::npos);
  EXPECT_EQ(got.find(kAwsSecret), std::string::npos);
  EXPECT_TRUE(got.empty() || got.ends_with("\r\n\r\n")) << "body bytes reached the server: " << got;
  std::string rules;
  for (const auto& e : r.findings)
    rules += e["unmapped"]["llmtap"]["rule_id"].get<std::string>() + " ";
  ASSERT_EQ(r.findings.size(), 1u) << rules << r.err;
  const json& e = r.findings[0];
  EXPECT_EQ(e["unmapped"]["llmtap"]["rule_id"], "block-cloud-keys");
  EXPECT_EQ(e["disposition_id"], 2);  // Blocked
  EXPECT_EQ(e["action_id"], 2);       // Denied
  EXPECT_EQ(e["unmapped"]["llmtap"]["action"]["prevented"], true);
  EXPECT_EQ(e["unmapped"]["llmtap"]["action"]["name"], "hold");
  EXPECT_EQ(r.summary.at("blocked"), 1u);
}

TEST(EnforcementE2E, HoldLetsAnAllowedRequestThroughUnchanged) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  json requests = json::array();
  for (int i = 0; i < 20; ++i) {
    requests.push_back({{"model", "gpt-4o"}, {"prompt", "What is " + std::to_string(i) + " + 1?"}});
  }
  const EnforcedRun r = run_with_policy(f, policy_text("hold"), requests);
  EXPECT_EQ(r.client.exit_code, 0) << r.client.err;
  EXPECT_TRUE(r.findings.empty()) << r.findings.size();
  ASSERT_EQ(r.connections.size(), 1u);
  EXPECT_NE(r.connections[0].received.find("What is 19 + 1?"), std::string::npos);
  EXPECT_GE(r.summary.at("held_writes"), 20u) << r.err;
  EXPECT_EQ(r.summary.at("allowed"), r.summary.at("held_writes"));
  EXPECT_EQ(r.summary.at("blocked"), 0u);
}

// curl writes the head and a small body at once: then not one byte of the request leaves.
TEST(EnforcementE2E, HoldStopsASingleWriteRequestWhole) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  const std::string body =
      json({{"model", "gpt-4o"},
            {"messages",
             json::array(
                 {{{"role", "user"}, {"content", "key " + kAwsKeyId + " secret " + kAwsSecret}}})}})
          .dump();
  const EnforcedRun r =
      run_with_policy(f, policy_text("hold"), json::array(), {},
                      {"curl", "-sk", "--max-time", "10", "-H", "Content-Type: application/json",
                       "--data-binary", body, f.url() + "/v1/chat/completions"});
  EXPECT_NE(r.client.exit_code, 0) << r.client.out;
  EXPECT_EQ(received(r), "") << "the server received " << received(r).size() << " bytes";
  ASSERT_EQ(r.findings.size(), 1u) << r.err;
  EXPECT_EQ(r.findings[0]["unmapped"]["llmtap"]["action"]["prevented"], true);
}

// A slow model (the server answers after 1.5 s, as LLMs do): the request is judged as it is
// written, the connection reset at once, and the answer never reaches the client.
TEST(EnforcementE2E, KillConnectionCutsAnUnsanctionedModelOffBeforeItsAnswer) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f("127.0.0.1", [](const testing::HttpRequest& request) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return testing::respond_to(request);
  });
  const json requests = json::array({{{"model", "deepseek-r1"}, {"prompt", "Summarise this."}}});
  const EnforcedRun r = run_with_policy(f, policy_text("kill-connection"), requests);
  EXPECT_NE(r.client.exit_code, 0) << "the client got its answer: " << r.client.out;
  ASSERT_EQ(r.findings.size(), 1u) << r.err;
  const json& e = r.findings[0];
  EXPECT_EQ(e["unmapped"]["llmtap"]["rule_id"], "block-deepseek");
  EXPECT_EQ(e["disposition_id"], 21);  // Reset
  EXPECT_EQ(e["unmapped"]["llmtap"]["action"]["succeeded"], true);
  EXPECT_EQ(e["unmapped"]["llmtap"]["action"]["prevented"], false);
  EXPECT_LT(e["unmapped"]["llmtap"]["action"]["capture_to_action_us"].get<uint64_t>(), 1'000'000u);
  // The server got the request, and its answer went nowhere.
  ASSERT_EQ(r.connections.size(), 1u);
  EXPECT_NE(r.connections[0].received.find("deepseek-r1"), std::string::npos);
}

TEST(EnforcementE2E, KillProcessKillsTheClient) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f("127.0.0.1", [](const testing::HttpRequest& request) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return testing::respond_to(request);
  });
  const json requests = json::array({{{"model", "deepseek-r1"}, {"prompt", "Summarise this."}}});
  const EnforcedRun r = run_with_policy(f, policy_text("kill-process"), requests);
  EXPECT_EQ(r.client.exit_code, 128 + SIGKILL) << r.client.out << r.client.err;
  ASSERT_EQ(r.findings.size(), 1u) << r.err;
  EXPECT_EQ(r.findings[0]["disposition_id"], 2);  // Blocked
  EXPECT_EQ(r.findings[0]["unmapped"]["llmtap"]["action"]["name"], "kill_process");
}

// Audit mode: the same policies touch nothing, and say what they would have done.
TEST(EnforcementE2E, AuditModeTouchesNothingAndSaysWhatItWouldHaveDone) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  const json requests =
      json::array({{{"model", "gpt-4o"}, {"prompt", "aws_access_key_id=" + kAwsKeyId}},
                   {{"model", "deepseek-r1"}, {"prompt", "Summarise this."}}});
  const EnforcedRun r = run_with_policy(f, policy_text("hold"), requests, {"--mode", "audit"});
  EXPECT_EQ(r.client.exit_code, 0) << r.client.err;
  EXPECT_NE(received(r).find(kAwsKeyId), std::string::npos);  // it went through
  std::set<std::string> names;
  for (const auto& e : r.findings) {
    EXPECT_EQ(e["disposition_id"], 17) << e.dump();  // Logged
    names.insert(e["unmapped"]["llmtap"]["action"]["name"].get<std::string>());
  }
  EXPECT_EQ(names, (std::set<std::string>{"would_hold", "would_kill_connection"})) << r.err;
  EXPECT_EQ(r.summary.count("held_writes"), 0u);  // prevent mode never started
}

// TLS to an endpoint that is not an LLM server is never held: only the LLM endpoint's writes
// are, whatever they carry.
TEST(EnforcementE2E, TrafficToOtherEndpointsIsNeverHeld) {
  LLMTAP_REQUIRE_ROOT();
  Fixture llm;
  Fixture other;
  const json requests = json::array({{{"model", "gpt-4o"}, {"prompt", "a clean prompt"}}});
  // The other server gets a secret in a plain (non-LLM) path: not held, so it goes through.
  const std::string body = "token=" + kAwsKeyId;
  const EnforcedRun r = run_with_policy(
      llm, policy_text("hold"), requests, {},
      {"sh", "-c",
       "for i in 1 2 3 4 5; do curl -sk --max-time 5 --data-binary '" + body + "' " + other.url() +
           "/upload >/dev/null || exit 1; done; "
           "python3 " +
           source_path("tests/clients/prompt_client.py") + " --port " +
           std::to_string(llm.server->port()) + " --requests " +
           (llm.dir / "requests.json").string()});
  EXPECT_EQ(r.client.exit_code, 0) << r.client.err;
  size_t other_received = 0;
  for (const auto& c : other.server->connections()) {
    other_received += c.received.find(kAwsKeyId) != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(other_received, 5u);
  // Only python's two writes (head, body) to the LLM endpoint were held.
  EXPECT_EQ(r.summary.at("held_writes"), 2u) << r.err;
  EXPECT_EQ(r.summary.at("prevent_holds"), 2u) << r.err;
}

// A hold rule scoped to other processes: the client's first write is held (its process is
// not known before), found out of scope, and its connection is never held again.
TEST(EnforcementE2E, ProcessesOutOfEveryHoldRulesScopeAreHeldOnceAtMost) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  json requests = json::array();
  for (int i = 0; i < 10; ++i) {
    requests.push_back({{"model", "gpt-4o"}, {"prompt", "aws_access_key_id=" + kAwsKeyId}});
  }
  const EnforcedRun r =
      run_with_policy(f, policy_text("hold", "    scope: {processes: [\"curl\"]}\n"), requests);
  EXPECT_EQ(r.client.exit_code, 0) << r.client.err;
  EXPECT_EQ(r.summary.at("held_writes"), 1u) << r.err;
  EXPECT_EQ(r.summary.at("exempted_connections"), 1u) << r.err;
  EXPECT_EQ(r.summary.at("blocked"), 0u);
}

// --hold-new-connections: no server given, none learned yet: the very first call, to a
// server llmtap has never seen, is judged before it leaves; a non-LLM connection is held
// once, then exempted.
TEST(EnforcementE2E, HoldNewConnectionsJudgesTheFirstCallToAnUnknownServer) {
  LLMTAP_REQUIRE_ROOT();
  Fixture llm;
  Fixture other;
  const std::string body =
      json({{"model", "gpt-4o"},
            {"messages", json::array({{{"role", "user"}, {"content", "key " + kAwsKeyId}}})}})
          .dump();
  const EnforcedRun r = run_with_policy(
      llm, policy_text("hold"), json::array(), {"--hold-new-connections"},
      {"sh", "-c",
       "for i in 1 2 3; do curl -sk --max-time 5 --data-binary 'plain upload' " + other.url() +
           "/upload >/dev/null || exit 1; done; "
           "curl -sk --max-time 5 -H 'Content-Type: application/json' --data-binary '" +
           body + "' " + llm.url() + "/v1/chat/completions"});
  EXPECT_NE(r.client.exit_code, 0) << "the secret's request went through: " << r.client.out;
  EXPECT_EQ(received(r), "") << "the LLM server received " << received(r).size() << " bytes";
  size_t uploads = 0;
  for (const auto& c : other.server->connections()) {
    uploads += c.received.find("plain upload") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(uploads, 3u);
  ASSERT_EQ(r.findings.size(), 1u) << r.err;
  EXPECT_EQ(r.findings[0]["unmapped"]["llmtap"]["action"]["prevented"], true);
  // One hold per upload connection, then exempted (the test server's answers on them are
  // new connections of its own, held once too), and one for the LLM call. The daemon is
  // host-wide: another process's new TLS connection during the run is held once and exempted
  // as well, so the counts are bounded by each other rather than by constants.
  EXPECT_GE(r.summary.at("exempted_connections"), 3u) << r.err;
  EXPECT_GE(r.summary.at("held_writes"), 4u) << r.err;
  EXPECT_LE(r.summary.at("held_writes"), r.summary.at("exempted_connections") + 1) << r.err;
}

// Process state letter from /proc/PID/stat ('T': stopped), or 0 when gone.
char process_state(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? 0 : stat[close + 2];
}

// llmtap stalls (stopped) while a client is held, then is killed: the guard ends the hold at
// its deadline while llmtap is stopped (fail-open: the client completes; fail-closed: it is
// killed), and at once when llmtap dies. Nothing is left stopped either way.
struct StalledCase {
  const char* fail;
  bool kill_llmtap;  // SIGKILL llmtap while the client is held (deadline far away)
};

void PrintTo(const StalledCase& c, std::ostream* os) {
  *os << "fail-" << c.fail << (c.kill_llmtap ? ", llmtap killed" : ", llmtap stalled");
}

class HeldWhileLlmtapStalls : public ::testing::TestWithParam<StalledCase> {};

TEST_P(HeldWhileLlmtapStalls, TheClientIsNeverLeftStopped) {
  LLMTAP_REQUIRE_ROOT();
  const StalledCase c = GetParam();
  Fixture f;
  const fs::path catalog = f.dir / "catalog.yaml";
  const fs::path policy_file = f.dir / "policy.yaml";
  const fs::path request_file = f.dir / "requests.json";
  std::ofstream(catalog) << kLocalLlmCatalog;
  std::ofstream(policy_file) << policy_text("hold");
  std::ofstream(request_file)
      << json::array({{{"model", "gpt-4o"}, {"prompt", "a clean prompt"}}}).dump();
  const uint64_t deadline_ms = c.kill_llmtap ? 5000 : 300;
  TraceSession daemon({"--catalog", catalog.string(), "--policy", policy_file.string(),
                       "--hold-endpoint", f.server_endpoint(), "--prevent-deadline",
                       std::to_string(deadline_ms), "--prevent-fail", c.fail},
                      std::chrono::seconds(60), {}, "daemon");
  // A first run, judged and allowed: python is then known, so the next one is not held
  // while its TLS library is attached (a fail-open hold of its own), only for its write.
  const ChildResult warm =
      run_child({"python3", source_path("tests/clients/prompt_client.py"), "--port",
                 std::to_string(f.server->port()), "--requests", request_file.string()});
  ASSERT_EQ(warm.exit_code, 0) << warm.err;
  ASSERT_EQ(kill(daemon.pid(), SIGSTOP), 0);
  ChildProcess client({"python3", source_path("tests/clients/prompt_client.py"), "--port",
                       std::to_string(f.server->port()), "--requests", request_file.string()});
  const auto start = std::chrono::steady_clock::now();
  client.release();
  // Held: the write's probe stopped it, and nobody judges.
  bool held = false;
  for (int i = 0; i < 400 && !held; ++i) {
    held = process_state(client.pid()) == 'T';
    if (!held) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(held) << "the client was never held";
  if (c.kill_llmtap) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_EQ(kill(daemon.pid(), SIGKILL), 0);
  }
  const ChildResult result = client.wait(std::chrono::seconds(20));
  const auto took = std::chrono::steady_clock::now() - start;
  if (!c.kill_llmtap) kill(daemon.pid(), SIGCONT);
  daemon.stop();
  const bool closed = std::string(c.fail) == "closed";
  if (closed) {
    EXPECT_EQ(result.exit_code, 128 + SIGKILL) << result.out << result.err;
  } else {
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  }
  // Within the deadline (plus the guard's period), or at once when llmtap died.
  EXPECT_LT(took, std::chrono::milliseconds(c.kill_llmtap ? 1500 : deadline_ms + 1500));
  if (c.kill_llmtap) {
    EXPECT_LT(took, std::chrono::milliseconds(deadline_ms));
  } else {
    EXPECT_GE(took, std::chrono::milliseconds(deadline_ms));
  }
}

INSTANTIATE_TEST_SUITE_P(EnforcementE2E, HeldWhileLlmtapStalls,
                         ::testing::Values(StalledCase{"open", false}, StalledCase{"closed", false},
                                           StalledCase{"open", true}, StalledCase{"closed", true}),
                         [](const auto& info) {
                           return std::string("fail_") + info.param.fail +
                                  (info.param.kill_llmtap ? "_llmtap_killed" : "_llmtap_stalled");
                         });

}  // namespace
}  // namespace llmtap::e2e
