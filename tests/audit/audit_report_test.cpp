// The audit report: calls grouped and summed, findings counted against --fail-on, both ends of
// one call counted once, the timeline, the inventory, and the text forms.
#include <gtest/gtest.h>

#include "audit/audit_report.h"
#include "audit/audit_text.h"

namespace llmtap::audit {
namespace {

using nlohmann::json;
using policy::Severity;

constexpr uint64_t kStart = 1'790'000'000'000'000'000ull;  // 2026-09-21T...Z
constexpr uint64_t kSecond = 1'000'000'000ull;

AuditHeader header(std::optional<Severity> fail_on = Severity::kHigh) {
  AuditHeader h;
  h.host_name = "node-7";
  h.kernel = "6.18.0";
  h.llmtap_version = "0.1.0";
  h.policy_sources = {"built-in"};
  h.fail_on = fail_on;
  h.started_realtime_ns = kStart;
  h.duration_seconds = 60;
  return h;
}

llm::LlmCall call(uint32_t pid, const std::string& comm, const std::string& model,
                  uint64_t at_seconds, bool served = false) {
  llm::LlmCall c;
  c.process.pid = pid;
  c.process.comm = comm;
  c.process.exe = "/usr/bin/" + comm;
  c.provider = "openai";
  c.request_model = model;
  c.server_name = "api.openai.com";
  c.served = served;
  c.status = 200;
  c.start_realtime_ns = kStart + at_seconds * kSecond;
  c.tokens.input = 100;
  c.tokens.output = 20;
  c.tokens.total = 120;
  c.cost_usd = 0.001;
  c.request_bytes = 1000;
  c.response_bytes = 500;
  return c;
}

policy::Finding finding(const llm::LlmCall& c, const std::string& rule, Severity severity,
                        policy::FindingKind kind = policy::FindingKind::kModelGovernance) {
  policy::Finding f;
  f.rule_id = rule;
  f.severity = severity;
  f.kind = kind;
  f.title = "Unsanctioned model " + c.request_model;
  f.call = c;
  f.time_realtime_ns = c.start_realtime_ns;
  return f;
}

TEST(AuditReport, GroupsCallsByProcessAndModelAndSumsThem) {
  AuditReportBuilder b(header());
  const auto mini = call(10, "python3", "gpt-4o-mini", 1);
  b.add_call(mini, {});
  b.add_call(call(10, "python3", "gpt-4o-mini", 2), {});
  const auto big = call(10, "python3", "gpt-4o", 3);
  b.add_call(big, {finding(big, "no-gpt-4o", Severity::kHigh)});
  b.add_call(call(11, "node", "gpt-4o-mini", 4), {});
  const json r = b.build(kStart + 60 * kSecond);

  ASSERT_EQ(r["calls"].size(), 3u);
  const json& first = r["calls"][0];  // the biggest group first
  EXPECT_EQ(first["process"]["comm"], "python3");
  EXPECT_EQ(first["model"], "gpt-4o-mini");
  EXPECT_EQ(first["calls"], 2);
  EXPECT_EQ(first["input_tokens"], 200);
  EXPECT_EQ(first["output_tokens"], 40);
  EXPECT_DOUBLE_EQ(first["cost_usd"].get<double>(), 0.002);
  EXPECT_EQ(first["sanctioned"], true);
  EXPECT_EQ(first["role"], "client");
  for (const json& row : r["calls"]) {
    if (row["model"] == "gpt-4o") {
      EXPECT_EQ(row["sanctioned"], false);
      EXPECT_EQ(row["findings"], json({{"high", 1}}));
      EXPECT_EQ(row["rules"], json({"no-gpt-4o"}));
    }
  }
  const json& s = r["summary"];
  EXPECT_EQ(s["calls"], 4);
  EXPECT_EQ(s["unsanctioned_calls"], 1);
  EXPECT_EQ(s["input_tokens"], 400);
  EXPECT_EQ(s["processes_calling"], 2);
  EXPECT_EQ(s["models"], 2);
  EXPECT_EQ(s["providers"], json({"openai"}));
  EXPECT_EQ(s["findings"]["high"], 1);
  EXPECT_EQ(s["findings"]["critical"], 0);
  EXPECT_EQ(r["llmtap_audit"], 1);
  EXPECT_EQ(r["host"]["name"], "node-7");
  EXPECT_EQ(r["window"]["started"], "2026-09-21T14:13:20Z");
  EXPECT_EQ(r["window"]["duration_seconds"], 60);
}

TEST(AuditReport, FindingsAtOrAboveFailOnDecideTheExitStatus) {
  AuditReportBuilder b(header(Severity::kHigh));
  const auto c = call(10, "python3", "gpt-4o", 1);
  b.add_call(c, {finding(c, "pii", Severity::kMedium, policy::FindingKind::kDataExfiltration)});
  EXPECT_EQ(b.exit_code(), 0) << "medium is below high";
  EXPECT_EQ(b.build(kStart)["status"]["exit_code"], 0);
  b.add_findings({finding(c, "deepseek", Severity::kCritical)});
  EXPECT_EQ(b.exit_code(), 1);
  EXPECT_EQ(b.failing_findings(), 1u);
  const json r = b.build(kStart + kSecond);
  EXPECT_EQ(r["status"]["exit_code"], 1);
  EXPECT_EQ(r["status"]["fail_on"], "high");
  EXPECT_EQ(r["status"]["findings_at_or_above"], 1);
  EXPECT_TRUE(r["status"]["error"].is_null());
  ASSERT_EQ(r["findings"].size(), 2u);
  EXPECT_EQ(r["findings"][0]["severity"], "critical") << "most severe first";
  EXPECT_EQ(r["findings"][1]["kind"], "data");
  // A data finding does not make the call unsanctioned.
  EXPECT_EQ(r["calls"][0]["sanctioned"], true);

  AuditReportBuilder never(header(std::nullopt));
  never.add_findings({finding(c, "deepseek", Severity::kCritical)});
  EXPECT_EQ(never.exit_code(), 0);
  EXPECT_EQ(never.build(kStart)["status"]["fail_on"], "never");
}

TEST(AuditReport, RepeatUpdatesAddOnlyTheNewCount) {
  AuditReportBuilder b(header(Severity::kLow));
  const auto c = call(10, "python3", "gpt-4o", 1);
  auto f = finding(c, "prompt-attack", Severity::kLow, policy::FindingKind::kPromptAttack);
  b.add_call(c, {f});
  f.update = true;
  f.count = 5;  // the first and four repeats
  f.time_realtime_ns += 10 * kSecond;
  b.add_findings({f});
  const json r = b.build(kStart + 60 * kSecond);
  ASSERT_EQ(r["findings"].size(), 1u);
  EXPECT_EQ(r["findings"][0]["count"], 5);
  EXPECT_EQ(r["summary"]["findings"]["low"], 5);
  EXPECT_EQ(r["findings"][0]["last_seen"], "2026-09-21T14:13:31Z");
  EXPECT_EQ(b.failing_findings(), 5u);
}

TEST(AuditReport, BothEndsOfOneCallOnThisHostCountOnce) {
  AuditReportBuilder b(header());
  b.add_call(call(20, "ollama", "llama3", 5, /*served=*/true), {});  // the server's record first
  b.add_call(call(21, "curl", "llama3", 5), {});
  const json r = b.build(kStart + 60 * kSecond);
  EXPECT_EQ(r["calls"].size(), 2u) << "both rows are listed, by role";
  EXPECT_EQ(r["summary"]["calls"], 1);
  EXPECT_EQ(r["summary"]["input_tokens"], 100);
  EXPECT_EQ(r["summary"]["processes_calling"], 1);
  ASSERT_EQ(r["timeline"]["series"].size(), 1u);
  uint64_t charted = 0;
  for (const json& n : r["timeline"]["series"][0]["calls"]) charted += n.get<uint64_t>();
  EXPECT_EQ(charted, 1u);

  // Served calls with no client here (a model server answering other hosts) do count.
  AuditReportBuilder served_only(header());
  served_only.add_call(call(20, "ollama", "llama3", 5, true), {});
  EXPECT_EQ(served_only.build(kStart)["summary"]["calls"], 1);
}

TEST(AuditReport, TimelineBucketsTheWindow) {
  EXPECT_EQ(timeline_bucket_seconds(60), 2);
  EXPECT_EQ(timeline_bucket_seconds(10), 1);
  EXPECT_EQ(timeline_bucket_seconds(600), 30);
  EXPECT_EQ(timeline_bucket_seconds(3600), 120);
  AuditReportBuilder b(header());
  b.add_call(call(10, "python3", "gpt-4o", 0), {});
  b.add_call(call(10, "python3", "gpt-4o", 7), {});
  b.add_call(call(10, "python3", "gpt-4o", 500), {});  // late records land in the last bucket
  const json r = b.build(kStart + 60 * kSecond);
  EXPECT_EQ(r["timeline"]["bucket_seconds"], 2);
  EXPECT_EQ(r["timeline"]["buckets"], 30);
  const json& calls = r["timeline"]["series"][0]["calls"];
  ASSERT_EQ(calls.size(), 30u);
  EXPECT_EQ(calls[0], 1);
  EXPECT_EQ(calls[3], 1);
  EXPECT_EQ(calls[29], 1);
  EXPECT_EQ(r["timeline"]["series"][0]["tokens"][3], 120);
}

TEST(AuditReport, InventoryAndWorkloads) {
  AuditReportBuilder b(header());
  Inventory inv;
  TlsProcess go;
  go.pid = 30;
  go.comm = "gateway";
  go.exe = "/usr/local/bin/gateway";
  go.stacks.push_back({"go", false, "/usr/local/bin/gateway"});
  TlsProcess py;
  py.pid = 31;
  py.comm = "python3";
  py.stacks.push_back({"openssl", true, "/usr/lib/libssl.so.3"});
  inv.tls.processes = {go, py};
  ProcessKeys keys;
  keys.pid = 31;
  keys.comm = "python3";
  keys.keys.push_back({"OPENAI_API_KEY", "openai", "0123456789ab"});
  inv.api_keys.push_back(keys);
  ModelServer ollama;
  ollama.port = 11434;
  ollama.kind = "ollama";
  ollama.models = {"llama3.2:1b"};
  inv.model_servers.push_back(ollama);
  inv.model_roots = {"/models"};
  inv.model_files.files.push_back({"/models/tiny.gguf", 4096, "gguf", "Tiny", "llama"});
  b.set_inventory(inv);
  auto pod = std::make_shared<llm::WorkloadIdentity>();
  pod->container_id = std::string(64, 'a');
  pod->pod_name = "checkout-6d9f";
  pod->pod_namespace = "shop";
  b.set_inventory_workload(30, pod);
  b.add_note("no cluster found: containers are named without pods");
  const json r = b.build(kStart);
  const json& i = r["inventory"];
  EXPECT_EQ(i["tls_processes"][0]["workload"]["pod_name"], "checkout-6d9f");
  EXPECT_TRUE(i["tls_processes"][1]["workload"].is_null());
  EXPECT_EQ(i["tls_stacks"],
            json::parse(R"([{"stack":"go","visible":false,"processes":1},
                            {"stack":"openssl","visible":true,"processes":1}])"));
  EXPECT_EQ(i["api_keys"][0]["fingerprint"], "0123456789ab");
  EXPECT_EQ(i["model_servers"][0]["models"], json({"llama3.2:1b"}));
  EXPECT_EQ(i["model_files"]["files"][0]["name"], "Tiny");
  EXPECT_EQ(r["summary"]["tls_processes_visible"], 1);
  EXPECT_EQ(r["summary"]["tls_processes_not_visible"], 1);
  EXPECT_EQ(r["summary"]["model_files"], 1);
  EXPECT_EQ(r["status"]["notes"].size(), 1u);
  EXPECT_TRUE(r["summary"]["cost_usd"].is_null()) << "no call was priced";
}

TEST(AuditReport, AnAuditThatCouldNotRunSaysWhy) {
  AuditReportBuilder b(header());
  const json r = b.build(kStart, "BPF is not available: needs root");
  EXPECT_EQ(r["status"]["exit_code"], 2);
  EXPECT_EQ(r["status"]["error"], "BPF is not available: needs root");
  EXPECT_NE(render_audit_table(r).find("could not run: BPF is not available"), std::string::npos);
}

TEST(AuditText, TableAndMarkdownCarryTheRowsSafely) {
  AuditReportBuilder b(header());
  auto hostile = call(10, "evil\x1b[2J|x", "gpt-4o", 1);
  b.add_call(hostile, {finding(hostile, "no-gpt-4o", Severity::kHigh)});
  const json r = b.build(kStart + 60 * kSecond);
  const std::string table = render_audit_table(r);
  EXPECT_EQ(table.find('\x1b'), std::string::npos) << "no escape sequence reaches a terminal";
  EXPECT_NE(table.find("evil?[2J|x[10]"), std::string::npos) << table;
  EXPECT_NE(table.find("1 finding at or above high (exit 1)"), std::string::npos) << table;
  EXPECT_NE(table.find("no-gpt-4o"), std::string::npos);
  EXPECT_NE(table.find("no process uses a TLS library"), std::string::npos);

  const std::string md = render_audit_markdown(r);
  EXPECT_EQ(md.rfind("# llmtap audit of node-7", 0), 0u) << md;
  EXPECT_NE(md.find("| process | pod / container | role |"), std::string::npos) << md;
  EXPECT_NE(md.find("evil \\[2J\\|x\\[10\\]"), std::string::npos) << md;
  EXPECT_EQ(render_audit_markdown(json::object()).find("# llmtap audit of this host"), 0u);
  EXPECT_FALSE(render_audit_table(json::array()).empty()) << "a broken document still renders";
}

TEST(AuditText, NumbersForPeople) {
  EXPECT_EQ(thousands(0), "0");
  EXPECT_EQ(thousands(999), "999");
  EXPECT_EQ(thousands(1234567), "1,234,567");
  EXPECT_EQ(dollars(0), "$0");
  EXPECT_EQ(dollars(0.0042), "$0.0042");
  EXPECT_EQ(dollars(12.345), "$12.35");
  EXPECT_EQ(dollars(1234.4), "$1234");
  EXPECT_EQ(human_bytes(512), "512 B");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(human_bytes(uint64_t{3} << 30), "3.0 GiB");
  EXPECT_EQ(human_bytes(uint64_t{200} << 20), "200 MiB");
}

}  // namespace
}  // namespace llmtap::audit
