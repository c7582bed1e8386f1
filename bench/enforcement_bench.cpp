// Enforcement figures (docs/benchmarks.md), as root: what prevent mode adds to allowed calls,
// and how long from the capture of an offending request to its connection reset. Prints
// figures; asserts nothing.
//
//   enforcement_bench [--calls N] [--kills K]
//
// 1. N allowed chat calls on one keep-alive connection (python http.client, two writes per
//    request: head and body), without llmtap, then with `llmtap daemon` holding every write
//    to the server (a `hold` rule): wall time per call, and llmtap's own stop-to-resume
//    figures from its prevent summary.
// 2. K calls to a denied model (server answering after 200 ms): capture_to_action_us of each
//    kill-connection finding; and K requests carrying a fake key under a hold rule: the same
//    figure for a reset made before the bytes left.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "llm_records.h"
#include "tls_test_server.h"
#include "trace_session.h"

namespace {

namespace fs = std::filesystem;
using llmtap::e2e::TraceSession;
using nlohmann::json;

constexpr const char* kPolicy = R"(version: 1
rules:
  - id: hold-keys
    action: hold
    data: {detectors: ["aws-*"]}
  - id: kill-deepseek
    action: kill-connection
    model: {deny: [{models: ["deepseek*"]}]}
)";

std::string client_script() {
  return std::string(LLMTAP_SOURCE_DIR) + "/tests/clients/prompt_client.py";
}

double run_client(uint16_t port, const fs::path& requests) {
  const auto start = std::chrono::steady_clock::now();
  llmtap::e2e::run_child(
      {"python3", client_script(), "--port", std::to_string(port), "--requests", requests.string()},
      nullptr, std::chrono::seconds(300));
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

uint64_t percentile(std::vector<uint64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  int calls = 1000;
  int kills = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--calls") calls = std::stoi(argv[i + 1]);
    if (std::string(argv[i]) == "--kills") kills = std::stoi(argv[i + 1]);
  }
  const fs::path dir =
      fs::temp_directory_path() / ("llmtap-enforce-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  llmtap::testing::write_self_signed_certificate(dir / "cert.pem", dir / "key.pem");
  llmtap::testing::TlsTestServerOptions options;
  options.cert_file = dir / "cert.pem";
  options.key_file = dir / "key.pem";
  llmtap::testing::TlsTestServer server(options);
  options.responder = [](const llmtap::testing::HttpRequest& r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return llmtap::testing::respond_to(r);
  };
  llmtap::testing::TlsTestServer slow(options);
  std::ofstream(dir / "catalog.yaml") << llmtap::e2e::kLocalLlmCatalog;
  std::ofstream(dir / "policy.yaml") << kPolicy;

  json clean = json::array();
  for (int i = 0; i < calls; ++i) {
    clean.push_back({{"model", "gpt-4o"}, {"prompt", "What is " + std::to_string(i) + " + 1?"}});
  }
  std::ofstream(dir / "clean.json") << clean.dump();
  std::ofstream(dir / "deepseek.json")
      << json::array({{{"model", "deepseek-r1"}, {"prompt", "Summarise this."}}}).dump();
  std::ofstream(dir / "secret.json")
      << json::array({{{"model", "gpt-4o"}, {"prompt", "key AKIA2OGYBAH6RVPSVMXQ"}}}).dump();

  auto daemon_args = [&](uint16_t port) {
    return std::vector<std::string>{"--catalog",       (dir / "catalog.yaml").string(),
                                    "--policy",        (dir / "policy.yaml").string(),
                                    "--hold-endpoint", "127.0.0.1:" + std::to_string(port)};
  };

  // 1. Allowed calls: without, then with prevent mode.
  run_client(server.port(), dir / "clean.json");  // warm-up
  const double without = run_client(server.port(), dir / "clean.json");
  double with = 0;
  llmtap::e2e::TraceSummary summary;
  {
    TraceSession daemon(daemon_args(server.port()), std::chrono::seconds(60), {}, "daemon");
    run_client(server.port(), dir / "clean.json");  // python known, endpoint held
    with = run_client(server.port(), dir / "clean.json");
    summary = daemon.stop();
  }
  std::printf("allowed calls (%d on one connection, 2 held writes each):\n", calls);
  std::printf("  per call without llmtap %.0f us, with prevent mode %.0f us: +%.0f us a call\n",
              without / calls * 1e6, with / calls * 1e6, (with - without) / calls * 1e6);
  std::printf(
      "  stop-to-resume per held write (llmtap's figure, all runs): p50 %llu us, p99 %llu us\n",
      static_cast<unsigned long long>(summary["allowed_hold_us_p50"]),
      static_cast<unsigned long long>(summary["allowed_hold_us_p99"]));

  // 2. Capture to kill.
  std::vector<uint64_t> reset_us;
  std::vector<uint64_t> prevented_us;
  {
    TraceSession daemon(daemon_args(slow.port()), std::chrono::seconds(60), {}, "daemon");
    for (int i = 0; i < kills; ++i) {
      run_client(slow.port(), dir / "deepseek.json");
      run_client(slow.port(), dir / "secret.json");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    daemon.stop();
    for (const auto& e : daemon.json_lines()) {
      if (!e.contains("unmapped") || !e["unmapped"]["llmtap"].contains("action")) continue;
      const json& a = e["unmapped"]["llmtap"]["action"];
      if (!a.value("succeeded", false) || !a.contains("capture_to_action_us")) continue;
      (a.value("prevented", false) ? prevented_us : reset_us)
          .push_back(a["capture_to_action_us"].get<uint64_t>());
    }
  }
  std::printf(
      "kill-connection after the request was written (%zu): capture to reset p50 %llu us, "
      "p99 %llu us\n",
      reset_us.size(), static_cast<unsigned long long>(percentile(reset_us, 0.5)),
      static_cast<unsigned long long>(percentile(reset_us, 0.99)));
  std::printf(
      "hold, blocked before the bytes left (%zu): capture to reset p50 %llu us, p99 %llu us\n",
      prevented_us.size(), static_cast<unsigned long long>(percentile(prevented_us, 0.5)),
      static_cast<unsigned long long>(percentile(prevented_us, 0.99)));
  fs::remove_all(dir);
  return 0;
}
