// End to end, as root: `llmtap daemon` with a test policy while a real client (python, system
// libssl) calls a local LLM-shaped TLS server with a sanctioned model, an unsanctioned one and
// prompts carrying fake secrets and card numbers: exactly the expected findings, redacted, and
// every event valid OCSF 1.9.0 by the official validator.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
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

constexpr const char* kPolicy = R"(version: 1
disable: [personal-data-in-prompts]
rules:
  - id: sanctioned-models
    severity: medium
    model:
      allow: [{provider: openai, models: ["gpt-4o*"]}]
  - id: deepseek-models
    severity: high
    model:
      deny: [{models: ["deepseek*"]}]
  - id: cloud-credentials
    severity: critical
    data: {detectors: ["aws-*"]}
  - id: cards
    severity: high
    data: {detectors: ["payment-card"]}
)";

// Fake values in real formats; none is a real credential.
const std::string kAwsKeyId = "AKIA2OGYBAH6RVPSVMXQ";
const std::string kAwsSecret = "Zq8mN3vB7xK1pL9wR4tY6uI2oP5aS0dF8gH3jK7l";
const std::string kCard = "4111 1111 1111 1111";
const std::string kDbPassword = "Tr0ub4dor&3xyzzy";


TEST(PolicyE2E, DaemonReportsExactlyTheExpectedRedactedValidFindings) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  const fs::path catalog = f.dir / "catalog.yaml";
  const fs::path policy = f.dir / "policy.yaml";
  std::ofstream(catalog) << kLocalLlmCatalog;
  std::ofstream(policy) << kPolicy;
  std::optional<TraceSession> daemon;
  try {
    daemon.emplace(std::vector<std::string>{"--catalog", catalog.string(), "--policy",
                                            policy.string(), "--include-content"},
                   std::chrono::seconds(60), std::vector<std::string>{}, "daemon");
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  const json requests = json::array({
      {{"model", "gpt-4o-mini"}, {"prompt", "What is the capital of France?"}},
      {{"model", "deepseek-r1"}, {"prompt", "Summarise this meeting."}},
      {{"model", "gpt-4o"},
       {"prompt", "deploy with aws_access_key_id=" + kAwsKeyId +
                      "\naws_secret_access_key=" + kAwsSecret + "\nand bill card " + kCard +
                      "\npostgres://app:" + kDbPassword + "@db.internal:5432/orders"}},
  });
  const fs::path request_file = f.dir / "requests.json";
  std::ofstream(request_file) << requests.dump();
  const ClientRun run =
      run_client(f, {"python3", source_path("tests/clients/prompt_client.py"), "--port",
                     std::to_string(f.server->port()), "--requests", request_file.string()});

  // Wait for the three call records, then stop (the daemon flushes findings at exit too).
  for (int i = 0; i < 200; ++i) {
    size_t calls = 0;
    for (const auto& e : json_lines(daemon->stdout_text())) {
      calls += e.value("class_uid", 0) == 4002 ? 1 : 0;
    }
    if (calls >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  daemon->stop();
  const std::string out = daemon->stdout_text();
  const std::string err = daemon->stderr_text();

  // Which rules fired on which model.
  std::multiset<std::string> fired;
  std::map<std::string, json> by_rule;
  for (const auto& e : json_lines(out)) {
    ASSERT_FALSE(e.is_discarded()) << "a line is not JSON";
    const int cls = e.value("class_uid", 0);
    // The test's own server is a TLS process too: its side of each call is judged as well.
    if ((cls != 2004 && cls != 2006) || e["actor"]["process"]["pid"] != run.pid) continue;
    const std::string rule = e["unmapped"]["llmtap"]["rule_id"];
    fired.insert(rule);
    by_rule[rule] = e;
  }
  const std::multiset<std::string> expected = {"sanctioned-models", "deepseek-models",
                                               "cloud-credentials", "cards", "secrets-in-prompts"};
  EXPECT_EQ(fired, expected) << out;
  if (by_rule.contains("cloud-credentials")) {
    EXPECT_EQ(by_rule["cloud-credentials"]["class_uid"], 2006);
    EXPECT_EQ(by_rule["cloud-credentials"]["severity_id"], 5);
  }
  if (by_rule.contains("deepseek-models")) {
    EXPECT_EQ(by_rule["deepseek-models"]["class_uid"], 2004);
  }

  // No raw secret anywhere: not in events (prompt text included), not in logs.
  for (const std::string& secret :
       {kAwsKeyId, kAwsSecret, kDbPassword, std::string("4111 1111 1111 1111")}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << "secret in stdout: " << secret.substr(0, 4);
    EXPECT_EQ(err.find(secret), std::string::npos) << "secret in stderr: " << secret.substr(0, 4);
  }

  // Every event valid against the official OCSF 1.9.0 schema.
  const fs::path events = f.dir / "events.jsonl";
  std::ofstream(events) << out;
  const std::string validator = std::string(LLMTAP_SOURCE_DIR) + "/../shared/ocsf/validate.py";
  if (!fs::exists(validator)) {
    if (bpf_required()) FAIL() << "no OCSF validator at " << validator;
    GTEST_SKIP() << "no OCSF validator at " << validator;
  }
  const ChildResult v =
      run_child({"python3", validator, "--version", "1.9.0", "--quiet", events.string()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

// Reload: a changed file is picked up by itself, a broken one keeps the running policy with its
// error logged, SIGHUP reloads on demand; the counts are in the exit summary.
TEST(PolicyE2E, PolicyReloadsOnChangeAndSighupAndKeepsTheOldOneWhenBroken) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  const fs::path policy = f.dir / "reload.yaml";
  std::ofstream(policy) << "rules:\n  - id: first\n    model: {unknown: true}\n";
  std::optional<TraceSession> daemon;
  try {
    daemon.emplace(std::vector<std::string>{"--policy", policy.string(), "--no-hold"},
                   std::chrono::seconds(60), std::vector<std::string>{}, "daemon");
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  auto wait_for = [&](const std::string& text) {
    for (int i = 0; i < 100; ++i) {
      if (daemon->stderr_text().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  std::ofstream(policy) << "rules:\n  - id: first\n    modl: {unknown: true}\n";
  EXPECT_TRUE(wait_for("policy reload failed, the running policy stays: " + policy.string() +
                       ":3:5: rule first: unknown key 'modl'"))
      << daemon->stderr_text();
  std::ofstream(policy) << "rules:\n  - id: second\n    model: {unknown: true}\n";
  EXPECT_TRUE(wait_for("policy reloaded")) << daemon->stderr_text();
  kill(daemon->pid(), SIGHUP);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const auto summary = daemon->stop();
  EXPECT_EQ(summary.at("policy_reloads"), 2u) << daemon->stderr_text();
  EXPECT_EQ(summary.at("failed_reloads"), 1u);
}

}  // namespace
}  // namespace llmtap::e2e

namespace llmtap::e2e {
namespace {

// A Kubernetes ConfigMap volume (the DaemonSet's policy): the file is a symbolic link through
// `..data`, which the kubelet swaps atomically to a new directory holding the new version. The
// running daemon takes the new policy, with no restart.
TEST(PolicyE2E, PolicyFromAConfigMapVolumeReloadsWhenTheKubeletSwapsIt) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  const fs::path volume = f.dir / "configmap";
  auto write_version = [&](const std::string& name, const std::string& rule_id) {
    fs::create_directories(volume / name);
    std::ofstream(volume / name / "policy.yaml")
        << "rules:\n  - id: " << rule_id << "\n    model: {unknown: true}\n";
    // The kubelet's atomic writer: a new `..data_tmp` link renamed over `..data`.
    fs::create_directory_symlink(name, volume / "..data_tmp");
    fs::rename(volume / "..data_tmp", volume / "..data");
  };
  write_version("..2026_11_30_14_00_00.000000001", "from-configmap-v1");
  fs::create_symlink("..data/policy.yaml", volume / "policy.yaml");
  std::optional<TraceSession> daemon;
  try {
    daemon.emplace(std::vector<std::string>{"--policy", (volume / "policy.yaml").string(),
                                            "--no-hold"},
                   std::chrono::seconds(60), std::vector<std::string>{}, "daemon");
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  write_version("..2026_11_30_14_05_00.000000002", "from-configmap-v2");
  fs::remove_all(volume / "..2026_11_30_14_00_00.000000001");  // the kubelet removes the old one
  bool reloaded = false;
  for (int i = 0; i < 100 && !reloaded; ++i) {
    reloaded = daemon->stderr_text().find("policy reloaded") != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(reloaded) << daemon->stderr_text();
  const auto summary = daemon->stop();
  EXPECT_EQ(summary.at("policy_reloads"), 1u) << daemon->stderr_text();
  EXPECT_EQ(summary.at("failed_reloads"), 0u);
}

}  // namespace
}  // namespace llmtap::e2e
