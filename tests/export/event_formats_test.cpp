#include "export/event_formats.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "llm_call_samples.h"
#include "policy/finding.h"
#include "sink/ocsf_finding.h"
#include "sink/ocsf_http_activity.h"

namespace llmtap::exporter {
namespace {

using nlohmann::json;
using sink::testing::full_call;
using sink::testing::pod_workload;

const sink::OcsfContext kContext{"0.3.0", "node-7.example", "b3f1c2d4"};

json call_event(const llm::LlmCall& call) {
  std::string line;
  sink::append_ocsf_http_activity(call, kContext, line);
  return json::parse(line);
}

json finding_event(const policy::Finding& finding) {
  std::string line;
  sink::append_ocsf_finding(finding, kContext, line);
  return json::parse(line);
}

// Every leaf of `doc` by its dotted ECS name (arrays are leaves); `llmtap` is left to the
// caller, compared whole.
void flatten(const json& doc, const std::string& prefix, std::map<std::string, json>& out) {
  for (const auto& [key, value] : doc.items()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    if (name == "llmtap") continue;
    if (value.is_object()) {
      flatten(value, name, out);
    } else {
      out[name] = value;
    }
  }
}

std::map<std::string, json> fields_of(const json& doc) {
  std::map<std::string, json> out;
  flatten(doc, "", out);
  return out;
}

// Exactly these fields, with these values: one assertion a field, so a failure names it.
void expect_fields(const json& doc, const std::map<std::string, json>& expected) {
  const std::map<std::string, json> actual = fields_of(doc);
  for (const auto& [name, value] : expected) {
    const auto it = actual.find(name);
    if (it == actual.end()) {
      ADD_FAILURE() << "missing " << name;
      continue;
    }
    EXPECT_EQ(it->second, value) << name;
  }
  for (const auto& [name, value] : actual) {
    EXPECT_TRUE(expected.contains(name)) << "unexpected " << name << " = " << value.dump();
  }
}

void expect_no_nulls(const json& value, const std::string& path = "") {
  ASSERT_FALSE(value.is_null()) << path;
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) expect_no_nulls(member, path + "." + key);
  } else if (value.is_array()) {
    for (const auto& element : value) expect_no_nulls(element, path + "[]");
  }
}

// The sample pod, with a label whose key has dots (as Kubernetes' recommended labels do).
std::shared_ptr<const llm::WorkloadIdentity> pod_with_dotted_label() {
  auto w = std::make_shared<llm::WorkloadIdentity>(*pod_workload());
  w->pod_labels = {{"app", "agent"}, {"app.kubernetes.io/name", "agent"}, {"team", "ml"}};
  return w;
}

llm::LlmCall pod_call() {
  llm::LlmCall call = full_call();
  call.process.workload = pod_with_dotted_label();
  return call;
}

// What the sample pod and process give every event made from full_call() in it.
const std::map<std::string, json> kPodProcessFields = {
    {"process.pid", 4242},
    {"process.name", "python3"},
    {"process.executable", "/usr/bin/python3.11"},
    {"process.command_line", "python3 agent.py --task summarize"},
    {"user.id", "1000"},
    {"host.hostname", "node-7.example"},
    {"host.name", "node-7.example"},
    {"observer.vendor", "llmtap"},
    {"observer.product", "llmtap"},
    {"observer.version", "0.3.0"},
    {"container.id", "3f4e1c9a0b7d2e5f8a6c4b1d9e7f2a3c5b8d0e1f4a7c9b2d6e8f0a1c3b5d7e9f"},
    {"container.name", "agent"},
    {"container.image.name", "registry.example:5000/ml/agent:2.3.1@sha256:1111"},
    {"container.image.hash.all", json::array({"sha256:9a8b7c"})},
    {"container.runtime", "containerd"},
    {"orchestrator.type", "kubernetes"},
    {"orchestrator.namespace", "ml-team"},
    {"orchestrator.resource.type", "pod"},
    {"orchestrator.resource.name", "agent-6d8f9-x2k4q"},
    {"orchestrator.resource.id", "0f8e3c52-7b1d-4c8e-9a61-2d5b7e9c4a13"},
    {"kubernetes.namespace", "ml-team"},
    {"kubernetes.pod.name", "agent-6d8f9-x2k4q"},
    {"kubernetes.pod.uid", "0f8e3c52-7b1d-4c8e-9a61-2d5b7e9c4a13"},
    {"kubernetes.pod.ip", "10.244.3.17"},
    {"kubernetes.node.name", "node-7"},
    {"kubernetes.container.name", "agent"},
    {"kubernetes.labels.app", "agent"},
    {"kubernetes.labels.app_kubernetes_io/name", "agent"},
    {"kubernetes.labels.team", "ml"},
};

const json kPodLlmtap = {
    {"namespace", "ml-team"},
    {"name", "agent-6d8f9-x2k4q"},
    {"uid", "0f8e3c52-7b1d-4c8e-9a61-2d5b7e9c4a13"},
    {"node", "node-7"},
    {"service_account", "agent"},
    {"ip", "10.244.3.17"},
    {"container", "agent"},
    {"labels", {{"app", "agent"}, {"app_kubernetes_io/name", "agent"}, {"team", "ml"}}}};

std::map<std::string, json> merged(std::map<std::string, json> a,
                                   const std::map<std::string, json>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

TEST(EcsTest, FullCallInAPodFieldByField) {
  const json ecs = ocsf_to_ecs(call_event(pod_call()));
  expect_no_nulls(ecs);
  expect_fields(ecs,
                merged(kPodProcessFields,
                       {
                           {"@timestamp", "2023-11-14T22:13:20.123Z"},
                           {"ecs.version", "8.17.0"},
                           {"event.kind", "event"},
                           {"event.category", json::array({"network", "web"})},
                           {"event.type", json::array({"access", "protocol"})},
                           {"event.action", "llm-call"},
                           {"event.outcome", "success"},
                           {"event.severity", 1},
                           {"event.id", "b3f1c2d4-42"},
                           {"event.dataset", "llmtap.llm"},
                           {"event.module", "llmtap"},
                           {"event.start", "2023-11-14T22:13:20.123Z"},
                           {"event.end", "2023-11-14T22:13:21.973Z"},
                           {"event.duration", 1'850'000'000},
                           {"source.ip", "10.0.0.5"},
                           {"source.port", 51514},
                           {"source.bytes", 5321},
                           {"destination.ip", "162.159.140.245"},
                           {"destination.port", 443},
                           {"destination.domain", "api.openai.com"},
                           {"destination.bytes", 48213},
                           {"related.ip", json::array({"10.0.0.5", "162.159.140.245"})},
                           {"related.hosts", json::array({"api.openai.com", "node-7.example"})},
                           {"network.protocol", "http"},
                           {"network.transport", "tcp"},
                           {"network.type", "ipv4"},
                           {"network.direction", "egress"},
                           {"network.bytes", 53534},
                           {"url.full", "https://api.openai.com/v1/chat/completions"},
                           {"url.scheme", "https"},
                           {"url.domain", "api.openai.com"},
                           {"url.port", 443},
                           {"url.path", "/v1/chat/completions"},
                           {"http.version", "1.1"},
                           {"http.request.method", "POST"},
                           {"http.request.bytes", 5321},
                           {"http.response.status_code", 200},
                           {"http.response.bytes", 48213},
                           {"user_agent.original", "OpenAI/Python 1.51.0"},
                           {"gen_ai.system", "openai"},
                           {"gen_ai.request.model", "gpt-4o-mini"},
                           {"gen_ai.response.model", "gpt-4o-mini-2024-07-18"},
                           {"gen_ai.usage.input_tokens", 1200},
                           {"gen_ai.usage.output_tokens", 350},
                           {"gen_ai.operation.name", "chat"},
                           {"gen_ai.response.id", "chatcmpl-AbC123"},
                           {"gen_ai.response.finish_reasons", json::array({"stop"})},
                       }));
  // llmtap.*: OCSF's unmapped.llmtap (pod labels dedotted) and the connection id and total.
  const json expected_llmtap = {{"pod", kPodLlmtap},
                                {"provider", "openai"},
                                {"api", "openai.chat_completions"},
                                {"operation", "chat_completions"},
                                {"request_model", "gpt-4o-mini"},
                                {"response_model", "gpt-4o-mini-2024-07-18"},
                                {"stream", true},
                                {"stream_events", 87},
                                {"cached_tokens", 1024},
                                {"reasoning_tokens", 0},
                                {"ttfb_ms", 310},
                                {"finish_reason", "stop"},
                                {"response_id", "chatcmpl-AbC123"},
                                {"request_body_bytes", 4980},
                                {"response_body_bytes", 47700},
                                {"request_truncated", false},
                                {"response_truncated", false},
                                {"response_incomplete", false},
                                {"auth_style", "bearer"},
                                {"captured_side", "client"},
                                {"cgroup_id", 9876},
                                {"tls_lib", "openssl"},
                                {"conn_id", 77},
                                {"total_tokens", 1550}};
  EXPECT_EQ(ecs["llmtap"], expected_llmtap) << ecs["llmtap"].dump(2);
}

TEST(EcsTest, ContentGoesToLlmtapOnlyWhenTheEventHasIt) {
  llm::LlmCall call = full_call();
  EXPECT_FALSE(ocsf_to_ecs(call_event(call))["llmtap"].contains("prompt_text"));
  call.prompt_text = "summarize this";
  call.completion_text = "a summary";
  const json ecs = ocsf_to_ecs(call_event(call));
  EXPECT_EQ(ecs["llmtap"]["prompt_text"], "summarize this");
  EXPECT_EQ(ecs["llmtap"]["response_text"], "a summary");
  EXPECT_FALSE(ecs["gen_ai"].contains("prompt"));
  EXPECT_FALSE(ecs["gen_ai"].contains("completion"));
}

TEST(EcsTest, BareCallLeavesOutWhatItDoesNotKnow) {
  const json ecs = ocsf_to_ecs(call_event(sink::testing::bare_call()));
  expect_no_nulls(ecs);
  // No model, tokens, hostname, addresses, process details, container: only what is known.
  expect_fields(ecs, {
                         {"@timestamp", "2023-11-14T22:13:20.123Z"},
                         {"ecs.version", "8.17.0"},
                         {"event.kind", "event"},
                         {"event.category", json::array({"network", "web"})},
                         {"event.type", json::array({"access", "protocol"})},
                         {"event.action", "llm-call"},
                         {"event.outcome", "success"},
                         {"event.severity", 1},
                         {"event.id", "b3f1c2d4-1"},
                         {"event.dataset", "llmtap.llm"},
                         {"event.module", "llmtap"},
                         {"event.start", "2023-11-14T22:13:20.123Z"},
                         {"event.end", "2023-11-14T22:13:20.125Z"},
                         {"event.duration", 2'000'000},
                         {"observer.vendor", "llmtap"},
                         {"observer.product", "llmtap"},
                         {"observer.version", "0.3.0"},
                         {"host.hostname", "node-7.example"},
                         {"host.name", "node-7.example"},
                         {"related.hosts", json::array({"node-7.example"})},
                         {"process.pid", 7},
                         {"user.id", "0"},
                         {"network.protocol", "http"},
                         {"network.transport", "tcp"},
                         {"network.direction", "egress"},
                         {"network.bytes", 0},
                         {"source.bytes", 0},
                         {"destination.bytes", 0},
                         {"url.scheme", "https"},
                         {"url.path", "/v1/embeddings"},
                         {"http.request.method", "POST"},
                         {"http.response.status_code", 200},
                         {"gen_ai.system", "openai"},
                     });
}

TEST(EcsTest, FailedCallCarriesTheProviderError) {
  llm::LlmCall call = full_call();
  call.status = 529;
  call.error_type = "overloaded_error";
  call.error_message = "Overloaded";
  const json ecs = ocsf_to_ecs(call_event(call));
  EXPECT_EQ(ecs["event"]["outcome"], "failure");
  EXPECT_EQ(ecs["error"]["code"], "overloaded_error");
  EXPECT_EQ(ecs["error"]["message"], "Overloaded");

  call.status = 0;  // no response came
  const json unknown = ocsf_to_ecs(call_event(call));
  EXPECT_EQ(unknown["event"]["outcome"], "unknown");
  EXPECT_FALSE(unknown.contains("error"));
  EXPECT_FALSE(unknown["http"].contains("response"));
}

TEST(EcsTest, OperationNamesFollowOpenTelemetry) {
  const std::map<std::string, std::string> cases = {{"chat_completions", "chat"},
                                                    {"messages", "chat"},
                                                    {"responses", "chat"},
                                                    {"embeddings", "embeddings"},
                                                    {"embed_content", "embeddings"},
                                                    {"completions", "text_completion"},
                                                    {"generate_content", "generate_content"},
                                                    {"invoke", "invoke"}};
  for (const auto& [ours, otel] : cases) {
    llm::LlmCall call = full_call();
    call.operation = ours;
    EXPECT_EQ(ocsf_to_ecs(call_event(call))["gen_ai"]["operation"]["name"], otel) << ours;
  }
}

// ---- Findings.

policy::Evidence evidence(std::string id, policy::DetectorCategory category,
                          policy::EvidenceSource source, size_t offset, size_t length,
                          std::string redacted, std::string fingerprint) {
  policy::Evidence e;
  e.detection.detector_id = std::move(id);
  e.detection.category = category;
  e.detection.offset = offset;
  e.detection.length = length;
  e.detection.redacted = std::move(redacted);
  e.detection.fingerprint = std::move(fingerprint);
  e.source = source;
  return e;
}

constexpr uint64_t kActionNs = sink::testing::kStartNs + 4'000'000;

// A request carrying an AWS key, its connection reset by the enforcer.
policy::Finding data_finding() {
  policy::Finding f;
  f.rule_id = "no-secrets-to-llms";
  f.rule_description = "Credentials must not reach an LLM";
  f.kind = policy::FindingKind::kDataExfiltration;
  f.severity = policy::Severity::kCritical;
  f.confidence = policy::Confidence::kMedium;
  f.action = policy::Action::kKillConnection;
  f.call = pod_call();
  f.evidence.push_back(evidence("aws-access-key-id", policy::DetectorCategory::kSecret,
                                policy::EvidenceSource::kRequest, 412, 20, "AKIA************KEY7",
                                "c1e64da9aec9"));
  f.evidence.push_back(evidence("aws-access-key-id", policy::DetectorCategory::kSecret,
                                policy::EvidenceSource::kRequest, 990, 20, "AKIA************KEY8",
                                "0d2a7e5b91c3"));
  f.title = "Sensitive data sent to gpt-4o-mini (openai): aws-access-key-id";
  f.reason = "2 detection(s)";
  f.time_realtime_ns = sink::testing::kStartNs;
  f.uid = "b3f1c2d4-f2";
  policy::ActionOutcome o;
  o.action = policy::Action::kKillConnection;
  o.attempted = true;
  o.succeeded = true;
  o.target = "connection 10.0.0.5:51514 -> 162.159.140.245:443";
  o.capture_to_action_ns = 4'000'000;
  o.time_realtime_ns = kActionNs;
  f.outcome = o;
  return f;
}

policy::Finding prompt_attack_finding() {
  policy::Finding f;
  f.rule_id = "prompt-attacks";
  f.rule_description = "Prompt injection and jailbreak indicators";
  f.kind = policy::FindingKind::kPromptAttack;
  f.severity = policy::Severity::kLow;
  f.confidence = policy::Confidence::kLow;
  f.action = policy::Action::kAlert;
  f.call = pod_call();
  f.evidence.push_back(evidence("ignore-previous-instructions",
                                policy::DetectorCategory::kPromptAttack,
                                policy::EvidenceSource::kRequest, 5, 32,
                                "ignore all prev**************ions", "a202ee6e402b"));
  f.title =
      "Prompt attack indicators in a request to gpt-4o-mini (openai): "
      "ignore-previous-instructions";
  f.reason = "1 indicator(s)";
  f.time_realtime_ns = sink::testing::kStartNs;
  f.uid = "b3f1c2d4-f4";
  return f;
}

// Fields a finding about pod_call() has whatever its class.
std::map<std::string, json> finding_common_fields() {
  return merged(kPodProcessFields, {
                                       {"@timestamp", "2023-11-14T22:13:20.123Z"},
                                       {"ecs.version", "8.17.0"},
                                       {"event.kind", "alert"},
                                       {"event.category", json::array({"intrusion_detection"})},
                                       {"event.dataset", "llmtap.finding"},
                                       {"event.module", "llmtap"},
                                       {"event.start", "2023-11-14T22:13:20.123Z"},
                                       {"destination.ip", "162.159.140.245"},
                                       {"destination.port", 443},
                                       {"destination.domain", "api.openai.com"},
                                       {"gen_ai.system", "openai"},
                                       {"gen_ai.request.model", "gpt-4o-mini"},
                                       {"gen_ai.response.model", "gpt-4o-mini-2024-07-18"},
                                   });
}

TEST(EcsTest, DataSecurityFindingFieldByField) {
  const json ocsf = finding_event(data_finding());
  ASSERT_EQ(ocsf["class_uid"], 2006);
  const json ecs = ocsf_to_ecs(ocsf);
  expect_no_nulls(ecs);
  expect_fields(
      ecs, merged(finding_common_fields(),
                  {
                      {"event.type", json::array({"denied"})},
                      {"event.action", "kill_connection"},
                      {"event.outcome", "success"},
                      {"event.severity", 5},
                      {"event.id", "b3f1c2d4-f2"},
                      {"message", "Sensitive data sent to gpt-4o-mini (openai): aws-access-key-id"},
                      {"rule.id", "no-secrets-to-llms"},
                      {"rule.name", "no-secrets-to-llms"},
                      {"rule.description", "Credentials must not reach an LLM"},
                      {"rule.category", "data"},
                      {"source.ip", "10.0.0.5"},
                      {"source.port", 51514},
                      {"related.ip", json::array({"10.0.0.5", "162.159.140.245"})},
                      {"related.hosts", json::array({"api.openai.com", "node-7.example"})},
                  }));
  // 2006 has no connection_info: no network.transport/type/direction from it.
  const json detection_0 = {{"detector_id", "aws-access-key-id"},
                            {"category", "secret"},
                            {"source", "request"},
                            {"offset", 412},
                            {"length", 20},
                            {"redacted", "AKIA************KEY7"},
                            {"fingerprint", "c1e64da9aec9"}};
  const json detection_1 = {{"detector_id", "aws-access-key-id"},
                            {"category", "secret"},
                            {"source", "request"},
                            {"offset", 990},
                            {"length", 20},
                            {"redacted", "AKIA************KEY8"},
                            {"fingerprint", "0d2a7e5b91c3"}};
  const json expected_llmtap = {{"pod", kPodLlmtap},
                                {"rule_id", "no-secrets-to-llms"},
                                {"kind", "data"},
                                {"reason", "2 detection(s)"},
                                {"requested_action", "kill-connection"},
                                {"action",
                                 {{"name", "kill_connection"},
                                  {"mode", "enforce"},
                                  {"target", "connection 10.0.0.5:51514 -> 162.159.140.245:443"},
                                  {"attempted", true},
                                  {"succeeded", true},
                                  {"prevented", false},
                                  {"capture_to_action_us", 4000},
                                  {"time", kActionNs / 1'000'000}}},
                                {"provider", "openai"},
                                {"request_model", "gpt-4o-mini"},
                                {"response_model", "gpt-4o-mini-2024-07-18"},
                                {"count", 1},
                                {"conn_id", 77},
                                {"detections", json::array({detection_0, detection_1})},
                                {"finding_uid", "b3f1c2d4-f2"},
                                {"call_event_id", "b3f1c2d4-42"},
                                {"confidence", "Medium"},
                                {"detectors", json::array({"aws-access-key-id"})}};
  EXPECT_EQ(ecs["llmtap"], expected_llmtap) << ecs["llmtap"].dump(2);
}

TEST(EcsTest, DetectionFindingFieldByField) {
  const json ocsf = finding_event(prompt_attack_finding());
  ASSERT_EQ(ocsf["class_uid"], 2004);
  const json ecs = ocsf_to_ecs(ocsf);
  expect_no_nulls(ecs);
  expect_fields(ecs,
                merged(finding_common_fields(),
                       {
                           {"event.type", json::array({"info"})},
                           {"event.action", "alert"},  // an alert has no outcome to report
                           {"event.severity", 2},
                           {"event.id", "b3f1c2d4-f4"},
                           {"message",
                            "Prompt attack indicators in a request to gpt-4o-mini (openai): "
                            "ignore-previous-instructions"},
                           {"rule.id", "prompt-attacks"},
                           {"rule.name", "prompt-attacks"},
                           {"rule.description", "Prompt injection and jailbreak indicators"},
                           {"rule.category", "prompt_attack"},
                           {"threat.framework", "MITRE ATLAS"},
                           {"threat.technique.id", json::array({"AML.T0051"})},
                           {"threat.technique.name", json::array({"LLM Prompt Injection"})},
                           {"threat.technique.reference",
                            json::array({"https://atlas.mitre.org/techniques/AML.T0051"})},
                           // From the evidence's connection_info; 2004 has no src_endpoint.
                           {"network.transport", "tcp"},
                           {"network.type", "ipv4"},
                           {"network.direction", "egress"},
                           {"related.ip", json::array({"162.159.140.245"})},
                           {"related.hosts", json::array({"api.openai.com", "node-7.example"})},
                       }));
  const json expected_llmtap = {{"pod", kPodLlmtap},
                                {"rule_id", "prompt-attacks"},
                                {"kind", "prompt_attack"},
                                {"reason", "1 indicator(s)"},
                                {"requested_action", "alert"},
                                {"provider", "openai"},
                                {"request_model", "gpt-4o-mini"},
                                {"response_model", "gpt-4o-mini-2024-07-18"},
                                {"count", 1},
                                {"conn_id", 77},
                                {"finding_uid", "b3f1c2d4-f4"},
                                {"call_event_id", "b3f1c2d4-42"},
                                {"confidence", "Low"},
                                {"detectors", json::array({"ignore-previous-instructions"})}};
  EXPECT_EQ(ecs["llmtap"], expected_llmtap) << ecs["llmtap"].dump(2);
}

TEST(EcsTest, UpdateSpansFirstToLastTimeAndAuditActionsHaveNoOutcome) {
  policy::Finding f = data_finding();
  f.evidence.clear();
  f.update = true;
  f.count = 3;
  f.time_realtime_ns = sink::testing::kStartNs + 61'000'000'000ULL;
  f.outcome->audit = true;
  f.outcome->attempted = false;
  f.outcome->succeeded = false;
  const json ecs = ocsf_to_ecs(finding_event(f));
  expect_no_nulls(ecs);
  EXPECT_EQ(ecs["event"]["id"], "b3f1c2d4-f2-u3");
  EXPECT_EQ(ecs["event"]["start"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(ecs["event"]["end"], "2023-11-14T22:14:21.123Z");
  EXPECT_EQ(ecs["@timestamp"], "2023-11-14T22:14:21.123Z");
  EXPECT_EQ(ecs["event"]["action"], "would_kill_connection");
  EXPECT_EQ(ecs["event"]["type"], json::array({"info"}));
  EXPECT_FALSE(ecs["event"].contains("outcome"));
  EXPECT_EQ(ecs["llmtap"]["count"], 3);
  EXPECT_FALSE(ecs["llmtap"].contains("detectors"));
}

TEST(EcsTest, FailedEnforcementIsAFailure) {
  policy::Finding f = data_finding();
  f.outcome->succeeded = false;
  f.outcome->error = "pid 1 is never touched";
  const json ecs = ocsf_to_ecs(finding_event(f));
  EXPECT_EQ(ecs["event"]["outcome"], "failure");
  EXPECT_EQ(ecs["event"]["type"], json::array({"info"}));  // Observed: nothing was stopped
}

TEST(EcsTest, ContainerWithoutPodHasNoKubernetesFields) {
  llm::LlmCall call = full_call();
  call.process.workload = sink::testing::container_workload();
  const json ecs = ocsf_to_ecs(call_event(call));
  EXPECT_EQ(ecs["container"],
            json({{"id", "aa11bb22cc33dd44ee55ff66aa77bb88cc99dd00ee11ff22aa33bb44cc55dd66"},
                  {"runtime", "docker"}}));
  EXPECT_FALSE(ecs.contains("orchestrator"));
  EXPECT_FALSE(ecs.contains("kubernetes"));
  EXPECT_FALSE(ecs["llmtap"].contains("pod"));
}

TEST(EcsTest, PodKnownOnlyByItsUidFromTheCgroupPath) {
  auto w = std::make_shared<llm::WorkloadIdentity>(*pod_workload());
  w->pod_name.clear();  // the API has not told of the pod
  w->pod_namespace.clear();
  llm::LlmCall call = full_call();
  call.process.workload = w;
  const json ecs = ocsf_to_ecs(call_event(call));
  expect_no_nulls(ecs);
  EXPECT_EQ(
      ecs["orchestrator"],
      json({{"type", "kubernetes"},
            {"resource", {{"type", "pod"}, {"id", "0f8e3c52-7b1d-4c8e-9a61-2d5b7e9c4a13"}}}}));
  EXPECT_EQ(ecs["kubernetes"], json({{"pod", {{"uid", "0f8e3c52-7b1d-4c8e-9a61-2d5b7e9c4a13"}}}}));
}

TEST(EcsTest, MissingAndMistypedMembersAreLeftOutNotThrown) {
  EXPECT_NO_THROW(ocsf_to_ecs(json::object()));
  EXPECT_NO_THROW(ocsf_to_ecs(json::array()));
  EXPECT_NO_THROW(ocsf_to_ecs(json("not an event")));
  json ocsf = call_event(pod_call());
  ocsf["time"] = "yesterday";
  ocsf["actor"]["process"]["pid"] = "sha256:0123";  // a sink's hash_fields did this
  ocsf["src_endpoint"] = 7;
  ocsf["http_request"]["url"] = json::array();
  ocsf["message_context"]["prompt_tokens"] = -5;
  ocsf["unmapped"]["llmtap"]["pod"]["labels"] = "app=agent";
  ocsf["device"] = nullptr;
  json ecs;
  ASSERT_NO_THROW(ecs = ocsf_to_ecs(ocsf));
  expect_no_nulls(ecs);
  EXPECT_FALSE(ecs.contains("@timestamp"));
  EXPECT_FALSE(ecs["process"].contains("pid"));
  EXPECT_FALSE(ecs["source"].contains("ip"));
  EXPECT_FALSE(ecs.contains("url"));
  EXPECT_FALSE(ecs["gen_ai"]["usage"].contains("input_tokens"));
  EXPECT_FALSE(ecs.contains("host"));
  EXPECT_EQ(ecs["llmtap"]["pod"]["labels"], json::object());
  EXPECT_NO_THROW(ocsf_to_cef(ocsf));
  EXPECT_NO_THROW(ocsf_to_cef(json::object()));

  ocsf["unmapped"]["llmtap"]["pod"] = "ml-team/agent";
  ocsf["actor"]["process"]["container"] = 3;
  ASSERT_NO_THROW(ecs = ocsf_to_ecs(ocsf));
  EXPECT_FALSE(ecs.contains("container"));
  EXPECT_FALSE(ecs.contains("orchestrator"));
  EXPECT_FALSE(ecs.contains("kubernetes"));
  std::string line;
  ASSERT_NO_THROW(line = ocsf_to_cef(ocsf));
  EXPECT_EQ(line.find("cs3="), std::string::npos) << line;
}

// ---- CEF.

TEST(CefTest, CallLine) {
  EXPECT_EQ(ocsf_to_cef(call_event(pod_call())),
            "CEF:0|llmtap|llmtap|0.3.0|llm-call|LLM API call|1|"
            "rt=1700000000123 cat=HTTP Activity externalId=b3f1c2d4-42 dvchost=node-7.example "
            "outcome=success src=10.0.0.5 spt=51514 dst=162.159.140.245 dpt=443 "
            "dhost=api.openai.com proto=TCP requestMethod=POST "
            "request=https://api.openai.com/v1/chat/completions "
            "requestClientApplication=OpenAI/Python 1.51.0 in=5321 out=48213 "
            "spid=4242 sproc=python3 suid=1000 "
            "cs1=openai cs1Label=provider cs2=gpt-4o-mini-2024-07-18 cs2Label=model "
            "cs3=ml-team/agent-6d8f9-x2k4q cs3Label=pod "
            "cs4=3f4e1c9a0b7d2e5f8a6c4b1d9e7f2a3c5b8d0e1f4a7c9b2d6e8f0a1c3b5d7e9f "
            "cs4Label=container cn1=1200 cn1Label=inputTokens cn2=350 cn2Label=outputTokens");
}

TEST(CefTest, BareCallLine) {
  EXPECT_EQ(ocsf_to_cef(call_event(sink::testing::bare_call())),
            "CEF:0|llmtap|llmtap|0.3.0|llm-call|LLM API call|1|"
            "rt=1700000000123 cat=HTTP Activity externalId=b3f1c2d4-1 dvchost=node-7.example "
            "outcome=success proto=TCP requestMethod=POST in=0 out=0 spid=7 suid=0 "
            "cs1=openai cs1Label=provider");
}

TEST(CefTest, FindingLine) {
  EXPECT_EQ(ocsf_to_cef(finding_event(data_finding())),
            "CEF:0|llmtap|llmtap|0.3.0|no-secrets-to-llms|"
            "Sensitive data sent to gpt-4o-mini (openai): aws-access-key-id|9|"
            "rt=1700000000123 cat=Data Security Finding externalId=b3f1c2d4-f2 "
            "dvchost=node-7.example act=kill_connection outcome=success "
            "msg=Sensitive data sent to gpt-4o-mini (openai): aws-access-key-id "
            "reason=2 detection(s) cnt=1 src=10.0.0.5 spt=51514 dst=162.159.140.245 dpt=443 "
            "dhost=api.openai.com spid=4242 sproc=python3 suid=1000 "
            "cs1=openai cs1Label=provider cs2=gpt-4o-mini-2024-07-18 cs2Label=model "
            "cs3=ml-team/agent-6d8f9-x2k4q cs3Label=pod "
            "cs4=3f4e1c9a0b7d2e5f8a6c4b1d9e7f2a3c5b8d0e1f4a7c9b2d6e8f0a1c3b5d7e9f "
            "cs4Label=container cs5=no-secrets-to-llms cs5Label=rule");
}

TEST(CefTest, DetectionFindingTakesItsServerFromTheEvidence) {
  EXPECT_EQ(ocsf_to_cef(finding_event(prompt_attack_finding())),
            "CEF:0|llmtap|llmtap|0.3.0|prompt-attacks|"
            "Prompt attack indicators in a request to gpt-4o-mini (openai): "
            "ignore-previous-instructions|3|"
            "rt=1700000000123 cat=Detection Finding externalId=b3f1c2d4-f4 "
            "dvchost=node-7.example act=alert "
            "msg=Prompt attack indicators in a request to gpt-4o-mini (openai): "
            "ignore-previous-instructions reason=1 indicator(s) cnt=1 "
            "dst=162.159.140.245 dpt=443 dhost=api.openai.com proto=TCP "
            "spid=4242 sproc=python3 suid=1000 "
            "cs1=openai cs1Label=provider cs2=gpt-4o-mini-2024-07-18 cs2Label=model "
            "cs3=ml-team/agent-6d8f9-x2k4q cs3Label=pod "
            "cs4=3f4e1c9a0b7d2e5f8a6c4b1d9e7f2a3c5b8d0e1f4a7c9b2d6e8f0a1c3b5d7e9f "
            "cs4Label=container cs5=prompt-attacks cs5Label=rule");
}

TEST(CefTest, EscapesHeaderAndExtension) {
  policy::Finding f = prompt_attack_finding();
  f.call.process.workload = nullptr;
  f.rule_id = "rule|a\\b";
  f.title = "a|b\\c=d\ne\rf";
  f.reason = "x=1\\y|z";
  const std::string line = ocsf_to_cef(finding_event(f));
  // Header: pipe and backslash escaped, line breaks become spaces; '=' as it is.
  EXPECT_EQ(line.substr(0, line.find("rt=")),
            "CEF:0|llmtap|llmtap|0.3.0|rule\\|a\\\\b|a\\|b\\\\c=d e f|3|");
  // Extension: backslash and equals escaped, line breaks as \n and \r, pipes as they are.
  EXPECT_NE(line.find(" msg=a|b\\\\c\\=d\\ne\\rf reason=x\\=1\\\\y|z cnt=1 "), std::string::npos)
      << line;
  EXPECT_NE(line.find(" cs5=rule|a\\\\b cs5Label=rule"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
}

TEST(CefTest, VersionAndValuesFromTheProcessAreEscapedToo) {
  json ocsf = call_event(full_call());
  ocsf["metadata"]["product"]["version"] = "1.0|beta\\2";
  ocsf["actor"]["process"]["name"] = "evil=1 act=blocked";
  ocsf["http_request"]["user_agent"] = std::string("ua\x01\x7f") + "\tend";
  const std::string line = ocsf_to_cef(ocsf);
  EXPECT_EQ(line.substr(0, 42), "CEF:0|llmtap|llmtap|1.0\\|beta\\\\2|llm-call|");
  EXPECT_NE(line.find(" sproc=evil\\=1 act\\=blocked "), std::string::npos) << line;
  EXPECT_NE(line.find(" requestClientApplication=ua   end "), std::string::npos) << line;
}

TEST(CefTest, SeverityScale) {
  const std::map<int, std::string> scale = {{0, "0"}, {1, "1"}, {2, "3"},  {3, "5"},
                                            {4, "7"}, {5, "9"}, {6, "10"}, {99, "0"}};
  for (const auto& [ocsf_id, cef] : scale) {
    json ocsf = call_event(full_call());
    ocsf["severity_id"] = ocsf_id;
    const std::string line = ocsf_to_cef(ocsf);
    EXPECT_NE(line.find("|LLM API call|" + cef + "|"), std::string::npos) << ocsf_id;
  }
}

TEST(CefTest, AnsweringProcessIsTheDestination) {
  llm::LlmCall call = full_call();
  call.served = true;  // an LLM server answered: the client is the remote end
  const std::string line = ocsf_to_cef(call_event(call));
  EXPECT_NE(line.find(" dpid=4242 dproc=python3 duid=1000 "), std::string::npos) << line;
  EXPECT_EQ(line.find("spid="), std::string::npos) << line;
  const json ecs = ocsf_to_ecs(call_event(call));
  EXPECT_EQ(ecs["network"]["direction"], "ingress");
}

}  // namespace
}  // namespace llmtap::exporter
