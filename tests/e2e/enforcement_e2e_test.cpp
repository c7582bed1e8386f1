// End to end, as root: enforcement against real clients and a TLS server that records every
// byte it receives. Prevent mode (hold): a request carrying a fake AWS key reaches the server
// with zero bytes; an allowed one completes. kill-connection: the client of an unsanctioned
// model gets a connection error and no response. kill-process, audit mode, llmtap killed
// while a client is held: nothing is left stopped, and every event is valid OCSF.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
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

// Starts the daemon with `policy`, runs prompt_client.py with `requests`, stops the daemon.
EnforcedRun run_with_policy(Fixture& f, const std::string& policy, const json& requests,
                    std::vector<std::string> extra_args = {}) {
  EnforcedRun r;
  const fs::path catalog = f.dir / "catalog.yaml";
  const fs::path policy_file = f.dir / "policy.yaml";
  const fs::path request_file = f.dir / "requests.json";
  std::ofstream(catalog) << kLocalLlmCatalog;
  std::ofstream(policy_file) << policy;
  std::ofstream(request_file) << requests.dump();
  std::vector<std::string> args = {"--catalog", catalog.string(), "--policy", policy_file.string(),
                                   "--hold-endpoint", f.server_endpoint()};
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
  r.client = run_child({"python3", source_path("tests/clients/prompt_client.py"), "--port",
                        std::to_string(f.server->port()), "--requests", request_file.string()},
                       &pid, std::chrono::seconds(30));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  r.summary = daemon->stop();
  r.err = daemon->stderr_text();
  const auto all = f.server->connections();
  r.connections.assign(all.begin() + static_cast<long>(before), all.end());
  for (const auto& e : daemon->json_lines()) {
    const int cls = e.value("class_uid", 0);
    // The test policy's rules (the built-in pack's alerts are reported too, not counted).
    if ((cls == 2004 || cls == 2006) && e["actor"]["process"]["pid"] == pid &&
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
  const json requests = json::array(
      {{{"model", "gpt-4o"},
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
  for (const auto& e : r.findings) rules += e["unmapped"]["llmtap"]["rule_id"].get<std::string>() + " ";
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

}  // namespace
}  // namespace llmtap::e2e
