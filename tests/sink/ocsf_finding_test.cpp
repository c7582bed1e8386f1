#include "sink/ocsf_finding.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "common/sha256.h"
#include "event_json_checks.h"
#include "llm_call_samples.h"

namespace llmtap::sink {
namespace {

using nlohmann::json;
using policy::Action;
using policy::ActionOutcome;
using policy::Confidence;
using policy::DetectorCategory;
using policy::Evidence;
using policy::EvidenceSource;
using policy::Finding;
using policy::FindingKind;
using policy::Severity;
using testing::expect_no_nulls;
using testing::full_call;
using testing::kStartNs;

const OcsfContext kContext{"0.3.0", "node-7.example", "b3f1c2d4"};

// Secrets as a detector would have seen them: only their redacted form and fingerprint may
// ever reach an event.
constexpr const char* kFakeAwsKey = "AKIAQYLPMN5HFAKEKEY7";
constexpr const char* kFakeEmail = "jane.doe.fake@example.org";
constexpr const char* kFakeApiKey = "sk-proj-FAKEfakeFAKEfakeFAKEfake0123456789";
const std::string kApiKeySha256 = sha256_hex(kFakeApiKey);

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kLaterNs = kStartNs + 61'000 * kMs;  // when the dedupe window ended

llm::LlmCall call_with_key() {
  llm::LlmCall call = full_call();
  call.api_key_sha256 = kApiKeySha256;
  return call;
}

Evidence evidence(std::string id, DetectorCategory category, EvidenceSource source, size_t offset,
                  std::string_view secret, std::string redacted) {
  Evidence e;
  e.detection.detector_id = std::move(id);
  e.detection.category = category;
  e.detection.offset = offset;
  e.detection.length = secret.size();
  e.detection.redacted = std::move(redacted);
  e.detection.fingerprint = sha256_hex(secret).substr(0, 12);
  e.source = source;
  return e;
}

Finding model_finding() {
  Finding f;
  f.rule_id = "deny-deepseek";
  f.rule_description = "DeepSeek models are not sanctioned";
  f.kind = FindingKind::kModelGovernance;
  f.severity = Severity::kHigh;
  f.confidence = Confidence::kHigh;
  f.action = Action::kAlert;
  f.call = call_with_key();
  f.call.provider = "deepseek";
  f.call.request_model = "deepseek-reasoner";
  f.call.response_model = "deepseek-r1";
  f.call.server_name = "api.deepseek.com";
  f.title = "Denied model deepseek-reasoner (deepseek)";
  f.reason = "deny: provider deepseek";
  f.time_realtime_ns = kStartNs;
  f.uid = "b3f1c2d4-f1";
  return f;
}

Finding data_finding() {
  Finding f;
  f.rule_id = "no-secrets-to-llms";
  f.rule_description = "Credentials and personal data must not reach an LLM";
  f.kind = FindingKind::kDataExfiltration;
  f.severity = Severity::kCritical;
  f.confidence = Confidence::kMedium;
  f.action = Action::kKillConnection;
  f.call = call_with_key();
  // What the engine never copies into a finding; the encoder must not write it either.
  f.call.prompt_text = std::string("deploy with ") + kFakeAwsKey + " please";
  f.call.completion_text = std::string("mail ") + kFakeEmail;
  f.evidence.push_back(evidence("aws-access-key-id", DetectorCategory::kSecret,
                                EvidenceSource::kRequest, 412, kFakeAwsKey,
                                "AKIA************KEY7"));
  f.evidence.push_back(evidence("email-address", DetectorCategory::kPersonalData,
                                EvidenceSource::kResponse, 37, kFakeEmail,
                                "ja***********@example.org"));
  f.title = "Sensitive data sent to gpt-4o-mini (openai): aws-access-key-id, email-address";
  f.reason = "2 detection(s)";
  f.time_realtime_ns = kStartNs;
  f.uid = "b3f1c2d4-f2";
  return f;
}

Finding volume_finding() {
  Finding f;
  f.rule_id = "token-budget";
  f.rule_description = "No process spends more than 200k tokens an hour";
  f.kind = FindingKind::kVolume;
  f.severity = Severity::kMedium;
  f.confidence = Confidence::kHigh;
  f.action = Action::kHold;
  f.call = call_with_key();
  f.volume_tokens = 250'000;
  f.volume_bytes = 9'000'000;
  f.volume_window_seconds = 3600;
  f.volume_key = "process:python3[4242]";
  f.title = "process:python3[4242] sent 250000 tokens / 9000000 bytes to AI models in 3600 s";
  f.reason = "max_tokens 200000";
  f.time_realtime_ns = kStartNs;
  f.uid = "b3f1c2d4-f3";
  return f;
}

Finding prompt_attack_finding() {
  Finding f;
  f.rule_id = "prompt-attacks";
  f.rule_description = "Prompt injection and jailbreak indicators";
  f.kind = FindingKind::kPromptAttack;
  f.severity = Severity::kLow;
  f.confidence = Confidence::kLow;
  f.action = Action::kKillProcess;
  f.call = call_with_key();
  f.evidence.push_back(evidence("ignore-previous-instructions", DetectorCategory::kPromptAttack,
                                EvidenceSource::kRequest, 5, "ignore all previous instructions",
                                "ignore all prev**************ions"));
  f.title =
      "Prompt attack indicators in a request to gpt-4o-mini (openai): "
      "ignore-previous-instructions";
  f.reason = "1 indicator(s)";
  f.time_realtime_ns = kStartNs;
  f.uid = "b3f1c2d4-f4";
  return f;
}

// The model finding's repeats, reported when its dedupe window ended (evidence is not kept).
Finding model_update() {
  Finding f = model_finding();
  f.update = true;
  f.count = 7;
  f.time_realtime_ns = kLaterNs;
  return f;
}

Finding data_update() {
  Finding f = data_finding();
  f.evidence.clear();
  f.update = true;
  f.count = 3;
  f.time_realtime_ns = kLaterNs;
  return f;
}

std::string line_of(const Finding& f, const OcsfContext& context = kContext) {
  std::string line;
  append_ocsf_finding(f, context, line);
  return line;
}

json event_of(const Finding& f, const OcsfContext& context = kContext) {
  const std::string line = line_of(f, context);
  return testing::parse_event_line(line);
}

// What every finding has, whatever its class.
void expect_common(const json& e, const Finding& f) {
  EXPECT_EQ(e["category_uid"], 2);
  EXPECT_EQ(e["category_name"], "Findings");
  EXPECT_EQ(e["severity_id"], static_cast<int>(f.severity));
  EXPECT_EQ(e["confidence_id"], static_cast<int>(f.confidence));
  EXPECT_EQ(e["status_id"], 1);
  EXPECT_EQ(e["status"], "New");
  EXPECT_EQ(e["message"], f.title);
  EXPECT_EQ(e["time"], f.time_realtime_ns / kMs);
  EXPECT_EQ(e["count"], f.count);
  EXPECT_EQ(e["is_alert"], true);
  // Every action alerts today.
  EXPECT_EQ(e["action_id"], 3);
  EXPECT_EQ(e["action"], "Observed");
  EXPECT_EQ(e["disposition_id"], 15);
  EXPECT_EQ(e["disposition"], "Detected");

  const json& m = e["metadata"];
  EXPECT_EQ(m["version"], "1.9.0");
  EXPECT_EQ(m["product"],
            json({{"name", "llmtap"}, {"vendor_name", "llmtap"}, {"version", "0.3.0"}}));
  EXPECT_EQ(m["log_name"], "finding");
  EXPECT_EQ(m["profiles"], json::array({"host", "security_control"}));
  EXPECT_FALSE(e.contains("ai_model"));
  EXPECT_FALSE(e.contains("message_context"));

  const json& i = e["finding_info"];
  EXPECT_EQ(i["uid"], f.uid);
  EXPECT_EQ(i["title"], f.title);
  EXPECT_EQ(i["desc"], f.rule_description);
  EXPECT_EQ(i["types"], json::array({std::string(policy::finding_kind_name(f.kind))}));
  EXPECT_EQ(i["analytic"],
            json({{"name", f.rule_id}, {"type_id", 1}, {"type", "Rule"}, {"uid", f.rule_id}}));
  EXPECT_EQ(i["created_time"], kStartNs / kMs);
  EXPECT_EQ(i["related_events"], json::array({{{"uid", "b3f1c2d4-42"},
                                               {"type_uid", 400206},
                                               {"type_name", "HTTP Activity: Post"},
                                               {"severity_id", 1},
                                               {"severity", "Informational"}}}));

  const json& p = e["actor"]["process"];
  EXPECT_EQ(p["pid"], 4242);
  EXPECT_EQ(p["name"], "python3");
  EXPECT_EQ(p["cmd_line"], "python3 agent.py --task summarize");
  EXPECT_EQ(p["file"]["path"], "/usr/bin/python3.11");
  EXPECT_EQ(p["user"]["uid"], "1000");
  EXPECT_EQ(e["device"],
            json({{"hostname", "node-7.example"}, {"type_id", 0}, {"type", "Unknown"}}));

  const json& u = e["unmapped"]["llmtap"];
  EXPECT_EQ(u["rule_id"], f.rule_id);
  EXPECT_EQ(u["kind"], policy::finding_kind_name(f.kind));
  EXPECT_EQ(u["reason"], f.reason);
  EXPECT_EQ(u["requested_action"], policy::action_name(f.action));
  EXPECT_EQ(u["provider"], f.call.provider);
  EXPECT_EQ(u["request_model"], f.call.request_model);
  EXPECT_EQ(u["response_model"], f.call.response_model);
  EXPECT_EQ(u["api_key_fingerprint"], kApiKeySha256.substr(0, 12));
  EXPECT_EQ(u["count"], f.count);
  EXPECT_EQ(u["conn_id"], 77);
  expect_no_nulls(e);
}

// The call-level artefacts of one evidence of a Detection Finding.
void expect_call_artefacts(const json& ev) {
  EXPECT_EQ(ev["process"]["pid"], 4242);
  EXPECT_EQ(ev["process"]["name"], "python3");
  EXPECT_EQ(ev["dst_endpoint"]["ip"], "162.159.140.245");
  EXPECT_EQ(ev["dst_endpoint"]["port"], 443);
  EXPECT_EQ(ev["connection_info"]["uid"], "77");
  EXPECT_EQ(ev["connection_info"]["direction_id"], 2);
  EXPECT_EQ(ev["connection_info"]["protocol_name"], "tcp");
}

TEST(OcsfFinding, ModelGovernanceIsADetectionFinding) {
  const Finding f = model_finding();
  const json e = event_of(f);
  EXPECT_EQ(e["class_uid"], 2004);
  EXPECT_EQ(e["class_name"], "Detection Finding");
  EXPECT_EQ(e["activity_id"], 1);
  EXPECT_EQ(e["activity_name"], "Create");
  EXPECT_EQ(e["type_uid"], 200401);
  EXPECT_EQ(e["type_name"], "Detection Finding: Create");
  EXPECT_EQ(e["severity"], "High");
  EXPECT_EQ(e["confidence"], "High");
  EXPECT_EQ(e["metadata"]["uid"], "b3f1c2d4-f1");
  EXPECT_FALSE(e["finding_info"].contains("modified_time"));
  expect_common(e, f);

  ASSERT_EQ(e["evidences"].size(), 1u);
  const json& ev = e["evidences"][0];
  EXPECT_EQ(ev["data"], json({{"provider", "deepseek"},
                              {"request_model", "deepseek-reasoner"},
                              {"response_model", "deepseek-r1"},
                              {"api_key_fingerprint", kApiKeySha256.substr(0, 12)}}));
  EXPECT_EQ(ev["dst_endpoint"]["hostname"], "api.deepseek.com");
  expect_call_artefacts(ev);
  // Only Data Security Finding has these.
  for (const char* key : {"data_security", "src_endpoint", "dst_endpoint"}) {
    EXPECT_FALSE(e.contains(key)) << key;
  }
  EXPECT_FALSE(e["unmapped"]["llmtap"].contains("volume"));
  EXPECT_FALSE(e["unmapped"]["llmtap"].contains("detections"));
}

TEST(OcsfFinding, DataExfiltrationIsADataSecurityFinding) {
  const Finding f = data_finding();
  const json e = event_of(f);
  EXPECT_EQ(e["class_uid"], 2006);
  EXPECT_EQ(e["class_name"], "Data Security Finding");
  EXPECT_EQ(e["activity_id"], 1);
  EXPECT_EQ(e["type_uid"], 200601);
  EXPECT_EQ(e["type_name"], "Data Security Finding: Create");
  EXPECT_EQ(e["severity"], "Critical");
  EXPECT_EQ(e["confidence"], "Medium");
  expect_common(e, f);
  EXPECT_FALSE(e.contains("evidences"));  // not in 2006

  EXPECT_EQ(e["src_endpoint"], json({{"ip", "10.0.0.5"}, {"port", 51514}}));
  EXPECT_EQ(e["dst_endpoint"],
            json({{"hostname", "api.openai.com"}, {"ip", "162.159.140.245"}, {"port", 443}}));

  const json& d = e["data_security"];
  EXPECT_EQ(d["category_id"], 6);  // a credential makes it Security, even beside personal data
  EXPECT_EQ(d["category"], "Security");
  EXPECT_EQ(d["data_lifecycle_state_id"], 2);
  EXPECT_EQ(d["data_lifecycle_state"], "Data in-Transit");
  EXPECT_EQ(d["detection_system_id"], 1);
  EXPECT_EQ(d["detection_system"], "Endpoint");
  EXPECT_EQ(d["detection_pattern"], "aws-access-key-id,email-address");
  EXPECT_EQ(
      d["discovery_details"],
      json::array(
          {{{"type", "aws-access-key-id"}, {"count", 1}, {"value", "AKIA************KEY7"}},
           {{"type", "email-address"}, {"count", 1}, {"value", "ja***********@example.org"}}}));
  EXPECT_EQ(d["policy"], json({{"uid", "no-secrets-to-llms"},
                               {"name", "no-secrets-to-llms"},
                               {"desc", "Credentials and personal data must not reach an LLM"}}));

  const json& u = e["unmapped"]["llmtap"];
  EXPECT_EQ(u["requested_action"], "kill-connection");
  ASSERT_EQ(u["detections"].size(), 2u);
  EXPECT_EQ(u["detections"][0], json({{"detector_id", "aws-access-key-id"},
                                      {"category", "secret"},
                                      {"source", "request"},
                                      {"offset", 412},
                                      {"length", 20},
                                      {"redacted", "AKIA************KEY7"},
                                      {"fingerprint", sha256_hex(kFakeAwsKey).substr(0, 12)}}));
  EXPECT_EQ(u["detections"][1], json({{"detector_id", "email-address"},
                                      {"category", "personal-data"},
                                      {"source", "response"},
                                      {"offset", 37},
                                      {"length", 25},
                                      {"redacted", "ja***********@example.org"},
                                      {"fingerprint", sha256_hex(kFakeEmail).substr(0, 12)}}));
}

TEST(OcsfFinding, DataCategoryFollowsTheDetections) {
  Finding f = data_finding();
  f.evidence.erase(f.evidence.begin());  // the e-mail address alone
  EXPECT_EQ(event_of(f)["data_security"]["category_id"], 1);
  EXPECT_EQ(event_of(f)["data_security"]["category"], "Personal");
  f.evidence[0].detection.category = DetectorCategory::kCustom;
  f.evidence[0].detection.detector_id = "project-codename";
  const json d = event_of(f)["data_security"];
  EXPECT_EQ(d["category_id"], 99);
  EXPECT_EQ(d["category"], "custom");  // Other: the source's own value
  EXPECT_EQ(d["detection_pattern"], "project-codename");
}

TEST(OcsfFinding, RepeatedDetectorsArePatternedOnce) {
  Finding f = data_finding();
  f.evidence.push_back(f.evidence[0]);
  f.evidence.back().detection.offset = 900;
  const json d = event_of(f)["data_security"];
  EXPECT_EQ(d["detection_pattern"], "aws-access-key-id,email-address");
  EXPECT_EQ(d["discovery_details"].size(), 3u);
}

TEST(OcsfFinding, VolumeIsADetectionFinding) {
  const Finding f = volume_finding();
  const json e = event_of(f);
  EXPECT_EQ(e["class_uid"], 2004);
  EXPECT_EQ(e["type_uid"], 200401);
  EXPECT_EQ(e["severity"], "Medium");
  expect_common(e, f);
  const json volume = {{"key", "process:python3[4242]"},
                       {"tokens", 250000},
                       {"bytes", 9000000},
                       {"window_seconds", 3600}};
  EXPECT_EQ(e["unmapped"]["llmtap"]["volume"], volume);
  EXPECT_EQ(e["unmapped"]["llmtap"]["requested_action"], "hold");
  ASSERT_EQ(e["evidences"].size(), 1u);
  EXPECT_EQ(e["evidences"][0]["data"], volume);
  expect_call_artefacts(e["evidences"][0]);
}

TEST(OcsfFinding, PromptAttackIsADetectionFindingWithAnEvidenceADetection) {
  Finding f = prompt_attack_finding();
  f.evidence.push_back(evidence("developer-mode", DetectorCategory::kPromptAttack,
                                EvidenceSource::kRequest, 80, "you are now in developer mode",
                                "you are now i****************ode"));
  const json e = event_of(f);
  EXPECT_EQ(e["class_uid"], 2004);
  EXPECT_EQ(e["severity"], "Low");
  EXPECT_EQ(e["confidence"], "Low");
  expect_common(e, f);
  EXPECT_EQ(e["unmapped"]["llmtap"]["requested_action"], "kill-process");
  ASSERT_EQ(e["evidences"].size(), 2u);
  EXPECT_EQ(e["evidences"][0]["data"],
            json({{"detector_id", "ignore-previous-instructions"},
                  {"category", "prompt-attack"},
                  {"source", "request"},
                  {"offset", 5},
                  {"length", 32},
                  {"redacted", "ignore all prev**************ions"},
                  {"fingerprint", sha256_hex("ignore all previous instructions").substr(0, 12)}}));
  EXPECT_EQ(e["evidences"][1]["data"]["detector_id"], "developer-mode");
  EXPECT_EQ(e["evidences"][1]["data"]["offset"], 80);
  for (const json& ev : e["evidences"]) expect_call_artefacts(ev);
  EXPECT_FALSE(e["unmapped"]["llmtap"].contains("detections"));
}

TEST(OcsfFinding, AnUpdateCountsTheFindingItUpdates) {
  const Finding f = model_update();
  const json e = event_of(f);
  EXPECT_EQ(e["class_uid"], 2004);
  EXPECT_EQ(e["activity_id"], 2);
  EXPECT_EQ(e["activity_name"], "Update");
  EXPECT_EQ(e["type_uid"], 200402);
  EXPECT_EQ(e["type_name"], "Detection Finding: Update");
  EXPECT_EQ(e["count"], 7);
  EXPECT_EQ(e["time"], kLaterNs / kMs);
  expect_common(e, f);
  // The same finding (finding_info.uid), another event (metadata.uid).
  EXPECT_EQ(e["finding_info"]["uid"], "b3f1c2d4-f1");
  EXPECT_EQ(e["metadata"]["uid"], "b3f1c2d4-f1-u7");
  EXPECT_EQ(e["finding_info"]["created_time"], kStartNs / kMs);
  EXPECT_EQ(e["finding_info"]["modified_time"], kLaterNs / kMs);
  EXPECT_EQ(e["unmapped"]["llmtap"]["count"], 7);
  ASSERT_EQ(e["evidences"].size(), 1u);
  expect_call_artefacts(e["evidences"][0]);
}

TEST(OcsfFinding, AnUpdateOfADataFindingHasNoDetections) {
  const Finding f = data_update();
  const json e = event_of(f);
  EXPECT_EQ(e["class_uid"], 2006);
  EXPECT_EQ(e["type_uid"], 200602);
  expect_common(e, f);
  const json& d = e["data_security"];
  EXPECT_EQ(d["category_id"], 0);
  EXPECT_FALSE(d.contains("detection_pattern"));
  EXPECT_FALSE(d.contains("discovery_details"));
  EXPECT_EQ(d["data_lifecycle_state_id"], 2);
  EXPECT_FALSE(e["unmapped"]["llmtap"].contains("detections"));
}

TEST(OcsfFinding, NoSecretEverReachesTheEvent) {
  std::string out;
  for (const Finding& f : {data_finding(), data_update(), prompt_attack_finding(), model_finding(),
                           volume_finding()}) {
    append_ocsf_finding(f, kContext, out);
  }
  for (const char* secret : {kFakeAwsKey, kFakeEmail, kFakeApiKey, "ignore all previous instr"}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << secret;
  }
  EXPECT_EQ(out.find(kApiKeySha256), std::string::npos) << "only 12 hex digits of the key's hash";
  EXPECT_EQ(out.find("deploy with"), std::string::npos) << "no prompt text";
  EXPECT_EQ(out.find("prompt_text"), std::string::npos);
  EXPECT_EQ(out.find("response_text"), std::string::npos);
  EXPECT_NE(out.find("AKIA************KEY7"), std::string::npos);
}

TEST(OcsfFinding, AbsentValuesAreLeftOut) {
  Finding f;
  f.kind = FindingKind::kModelGovernance;
  f.rule_id = "r";
  f.uid = "f1";
  f.call = testing::bare_call();
  f.time_realtime_ns = kStartNs;
  const json e = event_of(f, OcsfContext{});
  expect_no_nulls(e);
  EXPECT_FALSE(e["metadata"]["product"].contains("version"));
  EXPECT_FALSE(e.contains("device"));  // OCSF's device needs at least a name
  EXPECT_FALSE(e["finding_info"].contains("title"));
  EXPECT_FALSE(e.contains("message"));
  EXPECT_FALSE(e["finding_info"].contains("desc"));
  EXPECT_EQ(e["finding_info"]["related_events"][0]["uid"], "1");
  const json& ev = e["evidences"][0];
  EXPECT_EQ(ev["data"], json({{"provider", "openai"}}));
  EXPECT_FALSE(ev.contains("dst_endpoint"));
  EXPECT_EQ(ev["process"]["pid"], 7);
  const json& u = e["unmapped"]["llmtap"];
  for (const char* key : {"reason", "request_model", "response_model", "api_key_fingerprint",
                          "conn_id", "volume", "detections"}) {
    EXPECT_FALSE(u.contains(key)) << key;
  }
}

TEST(OcsfFinding, HostileStringsStayOneValidLine) {
  Finding f = model_finding();
  f.title = "evil\"}\n\x01\xff title";
  f.reason = std::string("a\0b", 3);
  f.rule_description = "line one\nline two";
  const std::string line = line_of(f);
  ASSERT_EQ(line.find('\n'), line.size() - 1);
  const json e = json::parse(line);
  EXPECT_EQ(e["finding_info"]["title"], "evil\"}\n\x01\xEF\xBF\xBD title");
  EXPECT_EQ(e["message"], e["finding_info"]["title"]);
  EXPECT_EQ(e["unmapped"]["llmtap"]["reason"], std::string("a\0b", 3));
}

// The OCSF project's rules, offline: every kind of finding must be a valid 1.9.0 event.
TEST(OcsfFinding, EveryKindPassesTheOcsfValidator) {
  std::string lines;
  for (const Finding& f : {model_finding(), data_finding(), volume_finding(),
                           prompt_attack_finding(), model_update(), data_update()}) {
    append_ocsf_finding(f, kContext, lines);
  }
  for (const auto& [action, audit, succeeded] :
       {std::tuple{Action::kKillConnection, false, true},
        std::tuple{Action::kKillProcess, true, false}, std::tuple{Action::kHold, false, true}}) {
    Finding f = data_finding();
    f.action = action;
    f.outcome =
        ActionOutcome{action, audit, !audit, succeeded, action == Action::kHold, "t", "", 1000, 1};
    append_ocsf_finding(f, kContext, lines);
  }
  Finding bare;
  bare.rule_id = "r";
  bare.uid = "f1";
  bare.call = testing::bare_call();
  append_ocsf_finding(bare, OcsfContext{}, lines);

  // Containers: a pod's, and one outside any cluster.
  for (auto workload : {testing::pod_workload(), testing::container_workload()}) {
    Finding f = data_finding();
    f.call.process.workload = workload;
    append_ocsf_finding(f, kContext, lines);
  }
  testing::expect_valid_ocsf(lines, 12);
}

// security_control: what was done about the finding, and whether it worked.
TEST(OcsfFinding, ActionsSayWhatWasDoneAndWhetherItWorked) {
  struct Case {
    Action action;
    bool audit, attempted, succeeded, prevented;
    int action_id, disposition_id;
    const char* name;
  };
  for (const Case& c :
       {Case{Action::kKillConnection, false, true, true, false, 2, 21, "kill_connection"},
        Case{Action::kKillProcess, false, true, true, false, 2, 2, "kill_process"},
        Case{Action::kHold, false, true, true, true, 2, 2, "hold"},
        Case{Action::kKillConnection, true, false, false, false, 3, 17, "would_kill_connection"},
        Case{Action::kKillProcess, false, true, false, false, 3, 27, "kill_process"},
        Case{Action::kKillProcess, false, false, false, false, 3, 16, "kill_process"}}) {
    Finding f = model_finding();
    f.action = c.action;
    ActionOutcome o;
    o.action = c.action;
    o.audit = c.audit;
    o.attempted = c.attempted;
    o.succeeded = c.succeeded;
    o.prevented = c.prevented;
    o.target = "connection 10.0.0.5:41234 -> 10.0.0.9:443";
    o.error = c.succeeded ? "" : "pid 1 is never touched";
    o.capture_to_action_ns = c.audit ? 0 : 1'500'000;
    f.outcome = o;
    const json e = event_of(f);
    EXPECT_EQ(e["action_id"], c.action_id) << c.name;
    EXPECT_EQ(e["disposition_id"], c.disposition_id) << c.name;
    const json& a = e["unmapped"]["llmtap"]["action"];
    EXPECT_EQ(a["name"], c.name);
    EXPECT_EQ(a["mode"], c.audit ? "audit" : "enforce");
    EXPECT_EQ(a["succeeded"], c.succeeded);
    EXPECT_EQ(a["prevented"], c.prevented);
    EXPECT_EQ(a["target"], o.target);
    if (!c.audit) {
      EXPECT_EQ(a["capture_to_action_us"], 1500);
    }
  }
  // An alert says it only observed.
  const json alert = event_of(model_finding());
  EXPECT_EQ(alert["action_id"], 3);
  EXPECT_EQ(alert["disposition_id"], 15);
  EXPECT_FALSE(alert["unmapped"]["llmtap"].contains("action"));
}

TEST(OcsfFinding, AppendsToTheCallersBuffer) {
  std::string out = "{\"previous\":1}\n";
  append_ocsf_finding(model_finding(), kContext, out);
  append_ocsf_finding(data_finding(), kContext, out);
  size_t lines = 0;
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1, ++lines) {
    EXPECT_TRUE(json::accept(out.substr(start, nl - start)));
  }
  EXPECT_EQ(lines, 3u);
}

}  // namespace
}  // namespace llmtap::sink
