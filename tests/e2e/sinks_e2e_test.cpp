// End to end, as root: `llmtap daemon --config` with four sinks at once (stdout, a rotated
// file, Splunk HEC, Elastic _bulk in ECS with a hashed field) and its metrics endpoint, while a
// real client calls a local LLM-shaped server. Every event on stdout reaches every sink (by
// metadata.uid), the ECS documents carry the gen_ai fields, the Prometheus counters match the
// events, /healthz and /readyz answer, and every event is valid OCSF 1.9.0.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "bpf_gate.h"
#include "child_process.h"
#include "collector_receiver.h"
#include "e2e_fixture.h"
#include "llm_records.h"
#include "self_signed_certificate.h"

namespace llmtap::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;


std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The string at a JSON pointer, or "" when it is absent or not a string (a const json's
// operator[] on a missing key is undefined behaviour, and the daemon sees the whole host: a 4002
// record of another process may carry no model).
std::string text_at(const json& j, const char* pointer) {
  const json::json_pointer at(pointer);
  if (!j.is_object() || !j.contains(at) || !j.at(at).is_string()) return {};
  return j.at(at).get<std::string>();
}

// The same, for a field every event must carry: a clear failure naming the line when it does not.
std::string required_text(const json& j, const char* pointer) {
  std::string text = text_at(j, pointer);
  if (text.empty()) ADD_FAILURE() << "no string at " << pointer << " in " << j.dump();
  return text;
}

// GET http://127.0.0.1:<port><path> with curl: {status, body}.
std::pair<int, std::string> http_get(uint16_t port, const std::string& path) {
  const ChildResult r = run_child({"curl", "-s", "-w", "\n%{http_code}",
                                   "http://127.0.0.1:" + std::to_string(port) + path});
  const size_t nl = r.out.rfind('\n');
  if (nl == std::string::npos) return {0, r.out};
  return {std::atoi(r.out.c_str() + nl + 1), r.out.substr(0, nl)};
}

// The value of the sample `name{labels}` in a Prometheus text body (labels as written, sorted).
std::optional<double> sample(const std::string& body, const std::string& series) {
  const size_t at = body.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(body.substr(at + series.size() + 2));
}

TEST(SinksE2E, EveryEventReachesEverySinkAndTheMetricsMatch) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  const fs::path cert = f.dir / "collector.crt";
  const fs::path key = f.dir / "collector.key";
  testing::write_self_signed_certificate(cert.string(), key.string());
  testing::CollectorReceiverOptions hec_options;
  hec_options.cert_file = cert.string();
  hec_options.key_file = key.string();
  hec_options.format = testing::CollectorFormat::kSplunkHec;
  hec_options.authorization = "Splunk hec-secret-token";
  testing::CollectorReceiver hec(hec_options);
  testing::CollectorReceiverOptions es_options;
  es_options.cert_file = cert.string();
  es_options.key_file = key.string();
  es_options.format = testing::CollectorFormat::kElasticBulk;
  es_options.authorization = "ApiKey es-secret-key";
  testing::CollectorReceiver elastic(es_options);
  std::ofstream(f.dir / "hec-token") << "hec-secret-token\n";
  std::ofstream(f.dir / "es-key") << "es-secret-key\n";

  const fs::path config = f.dir / "llmtap.yaml";
  std::ofstream(config) << "spool: {dir: " << (f.dir / "spool").string() << "}\n"
                        << "metrics: {address: \"127.0.0.1:0\"}\n"
                        << "sinks:\n"
                        << "  - type: stdout\n"
                        << "  - {name: archive, type: file, path: " << (f.dir / "events.jsonl").string()
                        << ", fsync: batch}\n"
                        << "  - {name: splunk, type: splunk-hec, url: \"" << hec.url()
                        << "\", token_file: " << (f.dir / "hec-token").string()
                        << ", ca_file: " << cert.string() << ", batch_delay_ms: 50}\n"
                        << "  - {name: elastic, type: elastic, format: ecs, url: \"" << elastic.url()
                        << "\", token_file: " << (f.dir / "es-key").string()
                        << ", ca_file: " << cert.string()
                        << ", batch_delay_ms: 50, hash_fields: [actor.process.cmd_line]}\n";
  const fs::path catalog = f.dir / "catalog.yaml";
  std::ofstream(catalog) << kLocalLlmCatalog;
  const fs::path policy = f.dir / "policy.yaml";
  std::ofstream(policy) << "rules:\n  - id: no-gpt-4o\n    severity: high\n"
                        << "    model: {deny: [{models: [\"gpt-4o*\"]}]}\n";
  std::optional<TraceSession> daemon;
  try {
    daemon.emplace(std::vector<std::string>{"--config", config.string(), "--catalog",
                                            catalog.string(), "--policy", policy.string()},
                   60s, std::vector<std::string>{}, "daemon");
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  std::smatch m;
  const std::string started = daemon->stderr_text();
  ASSERT_TRUE(std::regex_search(started, m, std::regex(R"(metrics on \S+ \(port (\d+)\))")))
      << started;
  const auto metrics_port = static_cast<uint16_t>(std::stoi(m[1]));

  const json requests = json::array({{{"model", "gpt-4o"}, {"prompt", "one"}},
                                     {{"model", "gpt-4o-mini"}, {"prompt", "two"}},
                                     {{"model", "o3-mini"}, {"prompt", "three"}}});
  std::ofstream(f.dir / "requests.json") << requests.dump();
  const ClientRun run =
      run_client(f, {"python3", source_path("tests/clients/prompt_client.py"), "--port",
                     std::to_string(f.server->port()), "--requests",
                     (f.dir / "requests.json").string(),
                     // The elastic sink hashes the command line, which the daemon reads from
                     // /proc: a client gone before its calls are built has none (a CI run
                     // under load lost that race).
                     "--linger-ms", "2000"});
  ASSERT_EQ(wait_for_llm_records(*daemon, run.pid, 3, 20s).size(), 3u);
  std::this_thread::sleep_for(1500ms);  // a metrics snapshot and the sinks' batches

  // Every event on stdout, by uid, in every sink.
  const std::vector<json> events = json_lines(daemon->stdout_text());
  std::set<std::string> uids;
  std::map<std::string, int> calls_by_model;
  std::map<std::string, int> findings_by_rule;
  for (const json& e : events) {
    ASSERT_FALSE(e.is_discarded());
    uids.insert(required_text(e, "/metadata/uid"));
    const json& class_uid = e.value("class_uid", json());
    const std::string model = text_at(e, "/ai_model/name");
    if (class_uid == 4002 && !model.empty()) ++calls_by_model[model];
    if (class_uid == 2004 || class_uid == 2006) {
      ++findings_by_rule[required_text(e, "/unmapped/llmtap/rule_id")];
    }
  }
  ASSERT_GE(uids.size(), 6u) << "calls of both ends and their findings";
  ASSERT_TRUE(hec.wait_for_records(uids.size(), 15s)) << hec.records();
  ASSERT_TRUE(elastic.wait_for_records(uids.size(), 15s)) << elastic.records();
  std::set<std::string> in_hec, in_elastic, in_file;
  for (const auto& r : hec.requests()) {
    for (const json& line : json_lines(r.body + "\n")) {
      in_hec.insert(required_text(line, "/event/metadata/uid"));
      EXPECT_EQ(line.value("sourcetype", ""), "ocsf");
    }
    EXPECT_EQ(r.header("authorization").value_or(""), "Splunk hec-secret-token");
  }
  for (const auto& r : elastic.requests()) {
    for (const json& line : json_lines(r.body)) {
      if (line.contains("create")) continue;
      in_elastic.insert(required_text(line, "/event/id"));
      if (text_at(line, "/event/dataset") == "llmtap.llm" &&
          line.value("/process/pid"_json_pointer, json()) == run.pid) {
        EXPECT_EQ(text_at(line, "/gen_ai/system"), "openai") << line.dump();
        EXPECT_TRUE(line.contains("/gen_ai/request/model"_json_pointer)) << line.dump();
        EXPECT_TRUE(line.contains("/gen_ai/usage/input_tokens"_json_pointer)) << line.dump();
        EXPECT_EQ(text_at(line, "/process/command_line").rfind("sha256:", 0), 0u)
            << "hashed for this sink: " << line.dump();
      }
    }
  }
  for (const json& line : json_lines(read_file(f.dir / "events.jsonl"))) {
    in_file.insert(required_text(line, "/metadata/uid"));
  }
  EXPECT_EQ(in_hec, uids);
  EXPECT_EQ(in_elastic, uids);
  EXPECT_EQ(in_file, uids);

  // Metrics: the counters say what the events say; health and readiness answer.
  const auto [status, body] = http_get(metrics_port, "/metrics");
  ASSERT_EQ(status, 200);
  for (const auto& [model, count] : calls_by_model) {
    const auto v = sample(body, "llmtap_llm_calls_total{model=\"" + model + "\",provider=\"openai\"}");
    ASSERT_TRUE(v) << model << "\n" << body;
    EXPECT_EQ(*v, count) << model;
  }
  for (const auto& [rule, count] : findings_by_rule) {
    const auto v = sample(body, "llmtap_findings_total{rule=\"" + rule + "\",severity=\"high\"}");
    ASSERT_TRUE(v) << rule << "\n" << body;
    EXPECT_EQ(*v, count) << rule;
  }
  EXPECT_GT(sample(body, "llmtap_probes_attached").value_or(0), 0);
  EXPECT_EQ(sample(body, "llmtap_events_lost{stage=\"kernel\"}"), 0);
  EXPECT_EQ(sample(body, "llmtap_sink_sent_events{sink=\"splunk\"}"), uids.size());
  EXPECT_EQ(sample(body, "llmtap_sink_queue_depth{sink=\"splunk\"}"), 0);
  EXPECT_EQ(http_get(metrics_port, "/healthz").first, 200);
  EXPECT_EQ(http_get(metrics_port, "/readyz").first, 200);

  // The Elastic collector goes down: readiness says so, and the events wait on disk.
  elastic.stop();
  run_client(f, {"python3", source_path("tests/clients/prompt_client.py"), "--port",
                 std::to_string(f.server->port()), "--requests", (f.dir / "requests.json").string()});
  std::this_thread::sleep_for(2s);
  const auto [ready_status, ready_body] = http_get(metrics_port, "/readyz");
  EXPECT_EQ(ready_status, 503);
  EXPECT_NE(ready_body.find("elastic"), std::string::npos) << ready_body;
  elastic.start();
  // The spool drains once the collector answers again: every event, the outage's too.
  size_t total = 0;
  for (const json& e : json_lines(daemon->stdout_text())) total += e.is_object() ? 1 : 0;
  EXPECT_TRUE(elastic.wait_for_records(total, 30s)) << elastic.records() << " of " << total;

  const auto summary = daemon->stop();
  const std::string err = daemon->stderr_text();
  for (const char* secret : {"hec-secret-token", "es-secret-key"}) {
    EXPECT_EQ(err.find(secret), std::string::npos) << "a sink credential in the log";
    EXPECT_EQ(daemon->stdout_text().find(secret), std::string::npos);
  }
  const std::vector<json> all = json_lines(daemon->stdout_text());
  // Everything reached Elastic.
  std::set<std::string> all_uids;
  for (const json& e : all) all_uids.insert(required_text(e, "/metadata/uid"));
  std::set<std::string> elastic_after;
  for (const auto& r : elastic.requests()) {
    if (r.status < 200 || r.status >= 300) continue;
    for (const json& line : json_lines(r.body)) {
      if (!line.contains("create")) elastic_after.insert(required_text(line, "/event/id"));
    }
  }
  EXPECT_EQ(elastic_after, all_uids) << err;

  const fs::path events_file = f.dir / "all-events.jsonl";
  std::ofstream(events_file) << daemon->stdout_text();
  const std::string validator = std::string(LLMTAP_SOURCE_DIR) + "/../shared/ocsf/validate.py";
  if (!fs::exists(validator)) {
    if (bpf_required()) FAIL() << "no OCSF validator at " << validator;
    return;
  }
  const ChildResult v =
      run_child({"python3", validator, "--version", "1.9.0", "--quiet", events_file.string()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

}  // namespace
}  // namespace llmtap::e2e
