// End to end, as root: `llmtap audit` on a host with a local TLS LLM-shaped server, a client
// calling a sanctioned and an unsanctioned model, a process holding OPENAI_API_KEY, a listener
// on 11434 answering like Ollama and a small GGUF file. The JSON report names each, the exit
// status follows --fail-on, and the key's value appears in no output.
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "../audit/gguf_writer.h"
#include "bpf_gate.h"
#include "child_process.h"
#include "e2e_fixture.h"
#include "llm_records.h"
#include "tiny_http_server.h"

namespace llmtap::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kKeyValue = "sk-proj-AuditE2eSecretValue0123456789abcdefXYZ";

std::string fingerprint(const std::string& value) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(value.data()), value.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (int i = 0; i < 6; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

const json* find_row(const json& rows, const std::function<bool(const json&)>& match) {
  for (const json& row : rows) {
    if (match(row)) return &row;
  }
  return nullptr;
}

// What every audit test sets up: the catalog naming the local server as OpenAI, a policy that
// denies gpt-4o (high), the requests file.
struct AuditHost {
  Fixture f;
  fs::path catalog = f.dir / "catalog.yaml";
  fs::path policy = f.dir / "policy.yaml";
  fs::path models = f.dir / "models";
  AuditHost() {
    std::ofstream(catalog) << kLocalLlmCatalog;
    std::ofstream(policy) << "rules:\n  - id: no-gpt-4o\n    severity: high\n"
                          << "    model: {deny: [{models: [\"gpt-4o\"]}]}\n";
    fs::create_directories(models / "llama");
    std::ofstream(models / "llama" / "tiny.gguf", std::ios::binary)
        << audit::testing::GgufWriter(3, 2)
               .string_kv("general.architecture", "llama")
               .string_kv("general.name", "TinyAuditLlama")
               .bytes();
  }
  std::vector<std::string> args(const std::string& fail_on, const std::string& format,
                                const fs::path& output) const {
    return {"--duration", "120",         "--format",     format,          "--output",
            output.string(), "--policy", policy.string(), "--catalog",     catalog.string(),
            "--model-root", models.string(), "--fail-on", fail_on};
  }
  // One client call per model, with the key in its Authorization header.
  ClientRun call(const std::vector<std::string>& model_names) {
    json requests = json::array();
    for (const auto& m : model_names) {
      requests.push_back({{"model", m}, {"prompt", "hello"}, {"key", kKeyValue}});
    }
    std::ofstream(f.dir / "requests.json") << requests.dump();
    return run_client(f, {"python3", source_path("tests/clients/prompt_client.py"), "--port",
                          std::to_string(f.server->port()), "--requests",
                          (f.dir / "requests.json").string()});
  }
};

std::optional<TraceSession> start_audit(const std::vector<std::string>& args) {
  try {
    return std::optional<TraceSession>(std::in_place, args, 90s, std::vector<std::string>{"-v"},
                                       "audit");
  } catch (const std::exception& e) {
    if (bpf_required()) throw;
    return std::nullopt;
  }
}

TEST(AuditE2E, ReportNamesCallsKeysServersAndModelFilesAndNeverTheKey) {
  LLMTAP_REQUIRE_ROOT();
  AuditHost host;
  std::optional<testing::TinyHttpServer> ollama;
  try {
    ollama.emplace(
        [](const std::string& path) -> std::pair<int, std::string> {
          if (path == "/api/tags") {
            return {200, R"({"models":[{"name":"llama3.2:1b"},{"name":"qwen2.5:0.5b"}]})"};
          }
          return {404, R"({"error":"not found"})"};
        },
        11434);
  } catch (const std::exception& e) {
    FAIL() << e.what() << " (is an Ollama running here?)";
  }
  // A process with a provider key in its environment (env execs sleep: same pid).
  ChildProcess key_holder({"env", std::string("OPENAI_API_KEY=") + kKeyValue, "sleep", "300"});
  key_holder.release();
  std::this_thread::sleep_for(200ms);  // exec'd

  const fs::path report_file = host.f.dir / "report.json";
  const fs::path html_file = host.f.dir / "report.html";
  std::vector<std::string> args = host.args("high", "json", report_file);
  args.insert(args.end(), {"--html", html_file.string()});
  auto audit = start_audit(args);
  if (!audit) LLMTAP_BPF_UNAVAILABLE("audit could not start");
  const ClientRun run = host.call({"gpt-4o", "gpt-4o-mini", "gpt-4o-mini"});
  std::this_thread::sleep_for(3s);  // both ends of the last call through the pipeline
  audit->stop();                    // SIGINT ends the window early; the report is still written
  EXPECT_EQ(audit->exit_code(), 1) << "a high finding with --fail-on high\n"
                                   << audit->stderr_text();

  std::ifstream in(report_file);
  ASSERT_TRUE(in) << "no report at " << report_file << "\n" << audit->stderr_text();
  const json report = json::parse(in);
  EXPECT_EQ(report["llmtap_audit"], 1);
  EXPECT_EQ(report["status"]["exit_code"], 1);
  EXPECT_EQ(report["policy"]["rules"], 7) << "the built-in pack's 6 and the file's one";
  EXPECT_EQ(report["policy"]["sources"], json({"built-in", host.policy.string()}));
  EXPECT_GE(report["status"]["findings_at_or_above"].get<int>(), 1);

  // The calls: the unsanctioned model flagged, the sanctioned one not.
  const json& calls = report["calls"];
  const json* denied = find_row(calls, [&](const json& r) {
    return r["process"]["pid"] == run.pid && r["model"] == "gpt-4o" && r["role"] == "client";
  });
  ASSERT_NE(denied, nullptr) << calls.dump(2);
  EXPECT_EQ((*denied)["sanctioned"], false);
  EXPECT_EQ((*denied)["calls"], 1);
  EXPECT_EQ((*denied)["provider"], "openai");
  EXPECT_EQ((*denied)["findings"]["high"], 1);
  EXPECT_EQ((*denied)["rules"], json({"no-gpt-4o"}));
  const json* allowed = find_row(calls, [&](const json& r) {
    return r["process"]["pid"] == run.pid && r["model"] == "gpt-4o-mini" && r["role"] == "client";
  });
  ASSERT_NE(allowed, nullptr) << calls.dump(2);
  EXPECT_EQ((*allowed)["sanctioned"], true);
  EXPECT_EQ((*allowed)["calls"], 2);
  EXPECT_GT((*allowed)["input_tokens"].get<uint64_t>(), 0u);
  const json* finding = find_row(report["findings"], [&](const json& f) {
    return f["rule_id"] == "no-gpt-4o" && f["process"]["pid"] == run.pid;
  });
  ASSERT_NE(finding, nullptr) << report["findings"].dump(2);
  EXPECT_EQ((*finding)["severity"], "high");
  EXPECT_EQ((*finding)["model"], "gpt-4o");
  EXPECT_GE(report["summary"]["calls"].get<int>(), 3);
  EXPECT_GE(report["summary"]["unsanctioned_calls"].get<int>(), 1);

  // The inventory.
  const json& inventory = report["inventory"];
  const json* key = find_row(inventory["api_keys"], [&](const json& k) {
    return k["pid"] == key_holder.pid() && k["variable"] == "OPENAI_API_KEY";
  });
  ASSERT_NE(key, nullptr) << inventory["api_keys"].dump(2);
  EXPECT_EQ((*key)["provider"], "openai");
  EXPECT_EQ((*key)["fingerprint"], fingerprint(kKeyValue));
  const json* server = find_row(inventory["model_servers"],
                                [](const json& s) { return s["port"] == 11434; });
  ASSERT_NE(server, nullptr) << inventory["model_servers"].dump(2);
  EXPECT_EQ((*server)["kind"], "ollama");
  EXPECT_EQ((*server)["models"], json({"llama3.2:1b", "qwen2.5:0.5b"}));
  EXPECT_EQ((*server)["pid"], getpid()) << "the listening socket's owner";
  const json& files = inventory["model_files"]["files"];
  ASSERT_EQ(files.size(), 1u) << files.dump(2);
  EXPECT_EQ(files[0]["name"], "TinyAuditLlama");
  EXPECT_EQ(files[0]["architecture"], "llama");
  EXPECT_EQ(files[0]["format"], "gguf");
  // This test process serves TLS with libssl: a TLS process llmtap sees into.
  const json* self = find_row(inventory["tls_processes"],
                              [](const json& p) { return p["pid"] == getpid(); });
  ASSERT_NE(self, nullptr);
  EXPECT_EQ((*self)["stacks"][0]["visible"], true);
  EXPECT_GE(report["summary"]["tls_processes_visible"].get<int>(), 1);

  // The HTML page, with its charts.
  const std::string html = read_file(html_file.string());
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("TinyAuditLlama"), std::string::npos);

  // The key's value: nowhere.
  for (const std::string& output :
       {read_file(report_file.string()), html, audit->stdout_text(), audit->stderr_text()}) {
    EXPECT_EQ(output.find(kKeyValue), std::string::npos);
    EXPECT_EQ(output.find("AuditE2eSecretValue"), std::string::npos);
  }
  EXPECT_EQ(key_holder.stop(SIGKILL, 1s), 128 + SIGKILL);
}

TEST(AuditE2E, ExitStatusFollowsFailOnAndMarkdownReports) {
  LLMTAP_REQUIRE_ROOT();
  AuditHost host;
  const fs::path report_file = host.f.dir / "report.md";
  auto audit = start_audit(host.args("critical", "markdown", report_file));
  if (!audit) LLMTAP_BPF_UNAVAILABLE("audit could not start");
  const ClientRun run = host.call({"gpt-4o"});
  std::this_thread::sleep_for(3s);
  audit->stop();
  EXPECT_EQ(audit->exit_code(), 0) << "a high finding is below --fail-on critical\n"
                                   << audit->stderr_text();
  const std::string md = read_file(report_file.string());
  EXPECT_EQ(md.rfind("# llmtap audit of ", 0), 0u) << md;
  EXPECT_NE(md.find("clean: no finding at or above critical (exit 0)"), std::string::npos) << md;
  EXPECT_NE(md.find("python3\\[" + std::to_string(run.pid) + "\\]"), std::string::npos) << md;
  EXPECT_NE(md.find("| high | no-gpt-4o |"), std::string::npos) << md;
  EXPECT_NE(md.find("TinyAuditLlama"), std::string::npos);
}

TEST(AuditE2E, TheWindowEndsByItselfAndABrokenPolicyExitsTwoWithTheReason) {
  LLMTAP_REQUIRE_ROOT();
  AuditHost host;
  // A window of 2 s ends by itself; the table goes to stdout.
  pid_t pid = 0;
  const ChildResult done = run_child(
      {llmtap_binary(), "audit", "--duration", "2", "--catalog", host.catalog.string(),
       "--model-root", host.models.string()},
      &pid, 60s);
  if (done.exit_code == 2 && !bpf_required()) LLMTAP_BPF_UNAVAILABLE(done.err);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.out.find("llmtap audit of "), std::string::npos) << done.out;
  EXPECT_NE(done.out.find("TinyAuditLlama"), std::string::npos) << done.out;
  EXPECT_EQ(done.err.find('\r'), std::string::npos) << "not a terminal: no progress line";
  EXPECT_EQ(done.err.find("info:"), std::string::npos) << "no log below warnings: " << done.err;

  std::ofstream(host.f.dir / "broken.yaml") << "rules:\n  - id: x\n    severity: extreme\n"
                                            << "    model: {deny: [{provider: deepseek}]}\n";
  const auto started = std::chrono::steady_clock::now();
  const ChildResult broken =
      run_child({llmtap_binary(), "audit", "--duration", "5", "--format", "json", "--policy",
                 (host.f.dir / "broken.yaml").string()},
                nullptr, 60s);
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_NE(broken.err.find("the policy has errors"), std::string::npos) << broken.err;
  EXPECT_NE(broken.err.find("broken.yaml"), std::string::npos) << broken.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s) << "said at once";
  const json report = json::parse(broken.out);
  EXPECT_EQ(report["status"]["exit_code"], 2);
  EXPECT_NE(report["status"]["error"].get<std::string>().find("broken.yaml"), std::string::npos);
}

}  // namespace
}  // namespace llmtap::e2e
