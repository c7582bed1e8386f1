#include "sink/ocsf_http_activity.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <cstring>
#include <memory>
#include <random>
#include <set>

#include "event_json_checks.h"
#include "llm_call_samples.h"
#include "sink/json_writer.h"
#include "sink/ocsf_objects.h"

namespace llmtap::sink {
namespace {

using nlohmann::json;
using testing::endpoint;
using testing::expect_no_nulls;
using testing::full_call;
using testing::kStartNs;

const OcsfContext kContext{"0.3.0", "node-7.example", "b3f1c2d4"};

json event_of(const llm::LlmCall& call, const OcsfContext& context = kContext) {
  std::string line;
  append_ocsf_http_activity(call, context, line);
  return testing::parse_event_line(line);
}

TEST(OcsfHttpActivity, ClassificationAndOccurrence) {
  const json e = event_of(full_call());
  EXPECT_EQ(e["class_uid"], 4002);
  EXPECT_EQ(e["class_name"], "HTTP Activity");
  EXPECT_EQ(e["category_uid"], 4);
  EXPECT_EQ(e["category_name"], "Network Activity");
  EXPECT_EQ(e["activity_id"], 6);
  EXPECT_EQ(e["activity_name"], "Post");
  EXPECT_EQ(e["type_uid"], 400206);
  EXPECT_EQ(e["type_name"], "HTTP Activity: Post");
  EXPECT_EQ(e["severity_id"], 1);
  EXPECT_EQ(e["severity"], "Informational");
  EXPECT_EQ(e["status_id"], 1);
  EXPECT_EQ(e["status"], "Success");
  EXPECT_FALSE(e.contains("status_code"));
  EXPECT_FALSE(e.contains("status_detail"));
  EXPECT_EQ(e["time"], kStartNs / 1'000'000);
  EXPECT_EQ(e["start_time"], kStartNs / 1'000'000);
  EXPECT_EQ(e["end_time"], (kStartNs + 1'850'000'000) / 1'000'000);
  EXPECT_EQ(e["duration"], 1850);
  expect_no_nulls(e);
}

TEST(OcsfHttpActivity, Metadata) {
  const json m = event_of(full_call())["metadata"];
  EXPECT_EQ(m["version"], kOcsfSchemaVersion);
  EXPECT_EQ(m["product"]["name"], "llmtap");
  EXPECT_EQ(m["product"]["vendor_name"], "llmtap");
  EXPECT_EQ(m["product"]["version"], "0.3.0");
  EXPECT_EQ(m["uid"], "b3f1c2d4-42");
  EXPECT_EQ(m["sequence"], 42);
  EXPECT_EQ(m["log_name"], "llm");
  EXPECT_EQ(m["profiles"], json::array({"host", "ai_operation"}));
}

TEST(OcsfHttpActivity, UidIsUniquePerCallAndRun) {
  std::set<std::string> uids;
  auto call = full_call();
  for (uint64_t seq = 0; seq < 100; ++seq) {
    call.sequence = seq;
    uids.insert(event_of(call)["metadata"]["uid"]);
    uids.insert(event_of(call, OcsfContext{"0.3.0", "h", "another-run"})["metadata"]["uid"]);
  }
  EXPECT_EQ(uids.size(), 200u);
  EXPECT_EQ(event_of(call, OcsfContext{})["metadata"]["uid"], "99");
}

TEST(OcsfHttpActivity, ActorDeviceAndNetwork) {
  const json e = event_of(full_call());
  const json& p = e["actor"]["process"];
  EXPECT_EQ(p["pid"], 4242);
  EXPECT_EQ(p["name"], "python3");
  EXPECT_EQ(p["cmd_line"], "python3 agent.py --task summarize");
  EXPECT_EQ(p["file"]["path"], "/usr/bin/python3.11");
  EXPECT_EQ(p["file"]["name"], "python3.11");
  EXPECT_EQ(p["file"]["type_id"], 1);
  EXPECT_EQ(p["user"]["uid"], "1000");
  EXPECT_EQ(e["device"]["hostname"], "node-7.example");
  EXPECT_EQ(e["device"]["type_id"], 0);

  EXPECT_EQ(e["src_endpoint"], json({{"ip", "10.0.0.5"}, {"port", 51514}}));
  EXPECT_EQ(e["dst_endpoint"],
            json({{"hostname", "api.openai.com"}, {"ip", "162.159.140.245"}, {"port", 443}}));
  const json& c = e["connection_info"];
  EXPECT_EQ(c["direction_id"], 2);
  EXPECT_EQ(c["direction"], "Outbound");
  EXPECT_EQ(c["protocol_name"], "tcp");
  EXPECT_EQ(c["protocol_num"], 6);
  EXPECT_EQ(c["protocol_ver_id"], 4);
  EXPECT_EQ(c["uid"], "77");
  EXPECT_EQ(e["traffic"], json({{"bytes_out", 5321}, {"bytes_in", 48213}, {"bytes", 53534}}));
  EXPECT_FALSE(e.contains("tls"));
}

TEST(OcsfHttpActivity, ACallTheCapturedProcessAnsweredIsInboundFromTheClient) {
  llm::LlmCall call = full_call();
  call.served = true;  // captured at the server: local is the server's end
  std::swap(call.local, call.remote);
  const json e = event_of(call);
  EXPECT_EQ(e["src_endpoint"], json({{"ip", "10.0.0.5"}, {"port", 51514}}));
  EXPECT_EQ(e["dst_endpoint"],
            json({{"hostname", "api.openai.com"}, {"ip", "162.159.140.245"}, {"port", 443}}));
  EXPECT_EQ(e["connection_info"]["direction_id"], 1);
  EXPECT_EQ(e["connection_info"]["direction"], "Inbound");
  EXPECT_EQ(e["http_request"]["url"]["port"], 443);
  EXPECT_EQ(e["unmapped"]["llmtap"]["captured_side"], "server");
  EXPECT_EQ(event_of(full_call())["unmapped"]["llmtap"]["captured_side"], "client");
}

TEST(OcsfHttpActivity, ContainerAndPod) {
  llm::LlmCall call = full_call();
  call.process.workload = testing::pod_workload();
  const json e = event_of(call);
  const json& c = e["actor"]["process"]["container"];
  EXPECT_EQ(c, json({{"uid", "3f4e1c9a0b7d2e5f8a6c4b1d9e7f2a3c5b8d0e1f4a7c9b2d6e8f0a1c3b5d7e9f"},
                     {"name", "agent"},
                     {"image",
                      {{"name", "registry.example:5000/ml/agent:2.3.1@sha256:1111"},
                       {"uid", "sha256:9a8b7c"}}},
                     {"runtime", "containerd"},
                     {"pod_uuid", "0f8e3c52-7b1d-4c8e-9a61-2d5b7e9c4a13"},
                     {"orchestrator", "Kubernetes"},
                     {"labels", {"app=agent", "team=ml"}}}));
  EXPECT_EQ(e["metadata"]["profiles"], json({"host", "ai_operation", "container"}));
  EXPECT_EQ(e["unmapped"]["llmtap"]["pod"],
            json({{"namespace", "ml-team"},
                  {"name", "agent-6d8f9-x2k4q"},
                  {"uid", "0f8e3c52-7b1d-4c8e-9a61-2d5b7e9c4a13"},
                  {"node", "node-7"},
                  {"service_account", "agent"},
                  {"ip", "10.244.3.17"},
                  {"container", "agent"},
                  {"labels", {{"app", "agent"}, {"team", "ml"}}}}));

  // Outside a cluster: the container alone, no pod, no orchestrator.
  call.process.workload = testing::container_workload();
  const json d = event_of(call);
  EXPECT_EQ(d["actor"]["process"]["container"],
            json({{"uid", "aa11bb22cc33dd44ee55ff66aa77bb88cc99dd00ee11ff22aa33bb44cc55dd66"},
                  {"runtime", "docker"}}));
  EXPECT_FALSE(d["unmapped"]["llmtap"].contains("pod"));
  // A host process: no container and no container profile.
  const json h = event_of(full_call());
  EXPECT_FALSE(h["actor"]["process"].contains("container"));
  EXPECT_EQ(h["metadata"]["profiles"], json({"host", "ai_operation"}));
}

TEST(OcsfHttpActivity, EveryShapePassesTheOcsfValidator) {
  std::string lines;
  llm::LlmCall call = full_call();
  append_ocsf_http_activity(call, kContext, lines);
  call.process.workload = testing::pod_workload();
  append_ocsf_http_activity(call, kContext, lines);
  call.process.workload = testing::container_workload();
  call.served = true;
  append_ocsf_http_activity(call, kContext, lines);
  // http_status: kept (deprecated) next to http_response.code for consumers of older OCSF.
  testing::expect_valid_ocsf(lines, 3, {"http_status: attribute is deprecated"});
}

TEST(OcsfHttpActivity, HttpRequestAndResponse) {
  const json e = event_of(full_call());
  const json& r = e["http_request"];
  EXPECT_EQ(r["http_method"], "POST");
  EXPECT_EQ(r["url"]["scheme"], "https");
  EXPECT_EQ(r["url"]["hostname"], "api.openai.com");
  EXPECT_EQ(r["url"]["port"], 443);
  EXPECT_EQ(r["url"]["path"], "/v1/chat/completions");
  EXPECT_EQ(r["url"]["url_string"], "https://api.openai.com/v1/chat/completions");
  EXPECT_EQ(r["version"], "HTTP/1.1");
  EXPECT_EQ(r["user_agent"], "OpenAI/Python 1.51.0");
  EXPECT_EQ(r["length"], 5321);
  EXPECT_EQ(e["http_response"], json({{"code", 200}, {"length", 48213}, {"latency", 310}}));
  EXPECT_EQ(e["http_status"], 200);
}

TEST(OcsfHttpActivity, AiOperationProfile) {
  const json e = event_of(full_call());
  EXPECT_EQ(e["ai_model"], json({{"ai_provider", "openai"}, {"name", "gpt-4o-mini-2024-07-18"}}));
  const json& m = e["message_context"];
  EXPECT_EQ(m["uid"], "chatcmpl-AbC123");
  EXPECT_EQ(m["service"]["name"], "api.openai.com");
  EXPECT_EQ(m["prompt_tokens"], 1200);
  EXPECT_EQ(m["completion_tokens"], 350);
  EXPECT_EQ(m["total_tokens"], 1550);
  EXPECT_FALSE(m.contains("prompt_text"));
  EXPECT_FALSE(m.contains("response_text"));
}

TEST(OcsfHttpActivity, UnmappedLlmtapFields) {
  const json u = event_of(full_call())["unmapped"]["llmtap"];
  EXPECT_EQ(u["provider"], "openai");
  EXPECT_EQ(u["api"], "openai.chat_completions");
  EXPECT_EQ(u["operation"], "chat_completions");
  EXPECT_EQ(u["request_model"], "gpt-4o-mini");
  EXPECT_EQ(u["response_model"], "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(u["stream"], true);
  EXPECT_EQ(u["stream_events"], 87);
  EXPECT_EQ(u["cached_tokens"], 1024);
  EXPECT_EQ(u["reasoning_tokens"], 0);  // reported as zero is not absent
  EXPECT_FALSE(u.contains("cache_creation_tokens"));
  EXPECT_EQ(u["ttfb_ms"], 310);
  EXPECT_EQ(u["finish_reason"], "stop");
  EXPECT_EQ(u["response_id"], "chatcmpl-AbC123");
  EXPECT_EQ(u["request_body_bytes"], 4980);
  EXPECT_EQ(u["response_body_bytes"], 47700);
  EXPECT_EQ(u["request_truncated"], false);
  EXPECT_EQ(u["response_truncated"], false);
  EXPECT_EQ(u["response_incomplete"], false);
  EXPECT_EQ(u["auth_style"], "bearer");
  EXPECT_EQ(u["cgroup_id"], 9876);
  EXPECT_EQ(u["tls_lib"], "openssl");
  EXPECT_FALSE(u.contains("error_type"));
  EXPECT_FALSE(u.contains("error_message"));
}

TEST(OcsfHttpActivity, ActivityFollowsTheMethod) {
  const std::pair<const char*, int> methods[] = {{"CONNECT", 1}, {"DELETE", 2},  {"GET", 3},
                                                 {"HEAD", 4},    {"OPTIONS", 5}, {"POST", 6},
                                                 {"PUT", 7},     {"TRACE", 8},   {"PATCH", 9}};
  const char* names[] = {"Unknown", "Connect", "Delete", "Get",   "Head",
                         "Options", "Post",    "Put",    "Trace", "Patch"};
  auto call = full_call();
  for (const auto& [method, id] : methods) {
    call.method = method;
    const json e = event_of(call);
    EXPECT_EQ(e["activity_id"], id) << method;
    EXPECT_EQ(e["activity_name"], names[id]) << method;
    EXPECT_EQ(e["class_uid"], 4002) << method;
    EXPECT_EQ(e["severity"], "Informational") << method;
    EXPECT_EQ(e["type_uid"], 4002 * 100 + id) << method;
    EXPECT_EQ(e["type_name"], "HTTP Activity: " + e["activity_name"].get<std::string>());
  }
  call.method = "PROPFIND";
  json e = event_of(call);
  EXPECT_EQ(e["activity_id"], 99);
  EXPECT_EQ(e["activity_name"], "PROPFIND");  // Other: the source's own value
  EXPECT_EQ(e["type_uid"], 400299);
  EXPECT_EQ(e["type_name"], "HTTP Activity: Other");
  call.method = "";
  e = event_of(call);
  EXPECT_EQ(e["activity_id"], 0);
  EXPECT_EQ(e["activity_name"], "Unknown");
  EXPECT_EQ(e["type_uid"], 400200);
  EXPECT_FALSE(e["http_request"].contains("http_method"));
}

// Members that are the same for every event of a run (or of a kind of call) are written once
// and copied: each event must still carry its own context's and call's values.
TEST(OcsfHttpActivity, KeptConstantMembersFollowTheContextAndTheCall) {
  const OcsfContext a{"0.3.0", "node-a", "p"};
  const OcsfContext b{"0.4.1", "node-b", "p"};
  const OcsfContext none{"", "", ""};
  for (const OcsfContext* context : {&a, &b, &a, &none, &b}) {
    const json e = event_of(full_call(), *context);
    if (context->hostname.empty()) {
      EXPECT_FALSE(e["device"].contains("hostname"));
      EXPECT_FALSE(e["metadata"]["product"].contains("version"));
    } else {
      EXPECT_EQ(e["device"]["hostname"], context->hostname);
      EXPECT_EQ(e["metadata"]["product"]["version"], context->product_version);
    }
    EXPECT_EQ(e["device"]["type_id"], 0);
    EXPECT_EQ(e["metadata"]["version"], kOcsfSchemaVersion);
  }
  auto call = full_call();
  for (const bool served : {false, true, false}) {
    for (const char* address : {"10.0.0.9", "2606:4700::6812:1", "::ffff:10.1.2.3", ""}) {
      call.served = served;
      call.remote = *address == 0 ? capture::Endpoint{} : endpoint(strchr(address, ':') ? AF_INET6 : AF_INET, address, 443);
      const json c = event_of(call)["connection_info"];
      EXPECT_EQ(c["direction_id"], served ? 1 : 2) << address;
      EXPECT_EQ(c["direction"], served ? "Inbound" : "Outbound") << address;
      EXPECT_EQ(c["protocol_num"], 6);
      if (*address == 0) {
        EXPECT_FALSE(c.contains("protocol_ver_id"));
      } else {
        const bool v6 = std::string_view(address).starts_with("2606");
        EXPECT_EQ(c["protocol_ver_id"], v6 ? 6 : 4) << address;
        EXPECT_EQ(c["protocol_ver"], v6 ? "Internet Protocol version 6 (IPv6)"
                                        : "Internet Protocol version 4 (IPv4)");
      }
      EXPECT_EQ(c["uid"], std::to_string(call.conn_id));
    }
  }
}

TEST(OcsfHttpActivity, AbsentValuesAreLeftOut) {
  const json e = event_of(testing::bare_call(), OcsfContext{});
  expect_no_nulls(e);
  EXPECT_FALSE(e.contains("ai_model"));
  EXPECT_FALSE(e.contains("message_context"));
  EXPECT_FALSE(e.contains("src_endpoint"));
  EXPECT_FALSE(e.contains("dst_endpoint"));
  EXPECT_FALSE(e["metadata"]["product"].contains("version"));
  EXPECT_FALSE(e["device"].contains("hostname"));
  const json& p = e["actor"]["process"];
  EXPECT_FALSE(p.contains("name"));
  EXPECT_FALSE(p.contains("file"));
  EXPECT_FALSE(p.contains("cmd_line"));
  EXPECT_FALSE(e["connection_info"].contains("uid"));
  EXPECT_FALSE(e["connection_info"].contains("protocol_ver_id"));
  const json& r = e["http_request"];
  EXPECT_FALSE(r.contains("version"));
  EXPECT_FALSE(r.contains("user_agent"));
  EXPECT_FALSE(r.contains("length"));
  EXPECT_FALSE(r["url"].contains("hostname"));
  EXPECT_FALSE(r["url"].contains("port"));
  EXPECT_FALSE(r["url"].contains("url_string"));
  EXPECT_EQ(r["url"]["path"], "/v1/embeddings");
  EXPECT_EQ(e["http_response"], json({{"code", 200}}));
  const json& u = e["unmapped"]["llmtap"];
  for (const char* key : {"api", "operation", "request_model", "response_model", "stream_events",
                          "cached_tokens", "cache_creation_tokens", "reasoning_tokens", "ttfb_ms",
                          "error_type", "error_message", "finish_reason", "response_id",
                          "auth_style", "cgroup_id", "tls_lib", "prompt_text", "completion_text"}) {
    EXPECT_FALSE(u.contains(key)) << key;
  }
}

TEST(OcsfHttpActivity, ModelFallsBackToTheRequestedOne) {
  auto call = full_call();
  call.response_model.clear();
  EXPECT_EQ(event_of(call)["ai_model"]["name"], "gpt-4o-mini");
}

TEST(OcsfHttpActivity, TokensAloneMakeAMessageContext) {
  auto call = testing::bare_call();
  call.tokens.input = 12;
  const json e = event_of(call);
  EXPECT_EQ(e["message_context"], json({{"prompt_tokens", 12}}));
}

TEST(OcsfHttpActivity, ContentGoesToMessageContext) {
  auto call = full_call();
  call.prompt_text = "Summarize this.";
  call.completion_text = "It says hello.";
  const json m = event_of(call)["message_context"];
  EXPECT_EQ(m["prompt_text"], "Summarize this.");
  EXPECT_EQ(m["response_text"], "It says hello.");
}

TEST(OcsfHttpActivity, NoResponseIsUnknown) {
  auto call = full_call();
  call.status = 0;
  call.ttfb_ns = 0;
  call.latency_ns = 0;
  call.response_bytes = 0;
  call.response_incomplete = true;
  call.error_type = "incomplete";
  const json e = event_of(call);
  EXPECT_EQ(e["status_id"], 0);
  EXPECT_EQ(e["status"], "Unknown");
  EXPECT_EQ(e["status_code"], "incomplete");
  EXPECT_FALSE(e.contains("status_detail"));
  EXPECT_FALSE(e.contains("http_response"));
  EXPECT_FALSE(e.contains("http_status"));
  EXPECT_FALSE(e.contains("end_time"));
  EXPECT_FALSE(e.contains("duration"));
  EXPECT_TRUE(e.contains("http_request"));
  EXPECT_EQ(e["unmapped"]["llmtap"]["response_incomplete"], true);
  expect_no_nulls(e);
}

TEST(OcsfHttpActivity, ErrorResponseIsFailure) {
  auto call = full_call();
  call.status = 429;
  call.error_type = "rate_limit_exceeded";
  call.error_message = "Rate limit reached for gpt-4o-mini";
  const json e = event_of(call);
  EXPECT_EQ(e["status_id"], 2);
  EXPECT_EQ(e["status"], "Failure");
  EXPECT_EQ(e["status_code"], "rate_limit_exceeded");
  EXPECT_EQ(e["status_detail"], "Rate limit reached for gpt-4o-mini");
  EXPECT_EQ(e["http_response"]["code"], 429);
  EXPECT_EQ(e["unmapped"]["llmtap"]["error_message"], "Rate limit reached for gpt-4o-mini");

  call.error_type.clear();
  call.error_message.clear();
  call.status = 500;
  EXPECT_EQ(event_of(call)["status_code"], "500");
}

TEST(OcsfHttpActivity, CutShort2xxIsFailure) {
  auto call = full_call();
  call.response_incomplete = true;
  EXPECT_EQ(event_of(call)["status_id"], 2);
  call.response_incomplete = false;
  call.error_type = "overloaded_error";  // an SSE error event after a 200
  EXPECT_EQ(event_of(call)["status_id"], 2);
}

TEST(OcsfHttpActivity, HostileStringsStayValidJson) {
  auto call = full_call();
  call.response_model = std::string("gpt\"}\\\n\x01\x1b[31m\xff\xfe", 15);
  call.error_type = std::string("bad\0type", 8);
  call.error_message = "\xC0\xAF \xED\xA0\x80 \"quoted\" \t tab";
  call.process.comm = "evil\"comm\x7f";
  call.process.cmdline = std::string("a\0b", 3);
  call.user_agent = "UA\r\nX-Injected: 1";
  call.server_name = "host\xe2\x82";
  call.status = 400;
  const json e = event_of(call);
  EXPECT_EQ(e["ai_model"]["name"], "gpt\"}\\\n\x01\x1b[31m\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(e["status_code"], std::string("bad\0type", 8));
  EXPECT_EQ(e["status_detail"],
            "\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \"quoted\" \t tab");
  EXPECT_EQ(e["actor"]["process"]["name"], "evil\"comm\x7f");
  EXPECT_EQ(e["actor"]["process"]["cmd_line"], std::string("a\0b", 3));
  EXPECT_EQ(e["http_request"]["user_agent"], "UA\r\nX-Injected: 1");
  EXPECT_EQ(e["dst_endpoint"]["hostname"], "host\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(e["http_request"]["url"]["url_string"],
            "https://host\xEF\xBF\xBD\xEF\xBF\xBD/v1/chat/completions");
}

TEST(OcsfHttpActivity, Ipv6Endpoints) {
  auto call = full_call();
  call.local = endpoint(AF_INET6, "fd00::5", 40000);
  call.remote = endpoint(AF_INET6, "2606:4700::6812:1", 8443);
  call.server_name.clear();
  call.http_version = "2";
  const json e = event_of(call);
  EXPECT_EQ(e["src_endpoint"]["ip"], "fd00::5");
  EXPECT_EQ(e["dst_endpoint"], json({{"ip", "2606:4700::6812:1"}, {"port", 8443}}));
  EXPECT_EQ(e["connection_info"]["protocol_ver_id"], 6);
  EXPECT_EQ(e["http_request"]["url"]["hostname"], "2606:4700::6812:1");
  EXPECT_EQ(e["http_request"]["url"]["url_string"],
            "https://[2606:4700::6812:1]:8443/v1/chat/completions");
  EXPECT_EQ(e["http_request"]["version"], "HTTP/2");
  EXPECT_FALSE(e["message_context"].contains("service"));
}

TEST(OcsfHttpActivity, MappedIpv4IsShownAsIpv4) {
  auto call = full_call();
  call.remote = endpoint(AF_INET6, "::ffff:10.1.2.3", 443);
  const json e = event_of(call);
  EXPECT_EQ(e["dst_endpoint"]["ip"], "10.1.2.3");
  EXPECT_EQ(e["connection_info"]["protocol_ver_id"], 4);
}

TEST(OcsfHttpActivity, AppendsToTheCallersBuffer) {
  std::string out = "{\"previous\":1}\n";
  append_ocsf_http_activity(full_call(), kContext, out);
  append_ocsf_http_activity(testing::bare_call(), kContext, out);
  size_t lines = 0;
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1, ++lines) {
    EXPECT_TRUE(json::accept(out.substr(start, nl - start)));
  }
  EXPECT_EQ(lines, 3u);
}

TEST(OcsfHttpActivity, ApiKeyFingerprintIsTwelveHexDigitsOfTheKeysHash) {
  auto call = full_call();
  call.api_key_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  const std::string line = [&] {
    std::string out;
    append_ocsf_http_activity(call, kContext, out);
    return out;
  }();
  EXPECT_EQ(json::parse(line)["unmapped"]["llmtap"]["api_key_fingerprint"], "9f86d081884c");
  EXPECT_EQ(line.find(call.api_key_sha256), std::string::npos) << "never the whole hash";
  EXPECT_FALSE(event_of(full_call())["unmapped"]["llmtap"].contains("api_key_fingerprint"));
}

}  // namespace
}  // namespace llmtap::sink

namespace llmtap::sink {
namespace {

// The actor object is kept for the last few processes and copied: over many processes in
// turn (more than are kept, each field changed alone, the same container's identity in a new
// object or changed), every event's actor is exactly what writing it afresh gives.
TEST(OcsfHttpActivity, KeptActorsAreTheProcessesOwn) {
  std::vector<llm::ProcessIdentity> processes;
  auto workload = [](std::string id, std::string pod) {
    auto w = std::make_shared<llm::WorkloadIdentity>();
    w->container_id = std::move(id);
    w->container_runtime = "containerd";
    w->pod_uid = "0f0e0d0c-0b0a-0908-0706-050403020100";
    w->pod_name = std::move(pod);
    w->pod_namespace = "team";
    return std::shared_ptr<const llm::WorkloadIdentity>(std::move(w));
  };
  llm::ProcessIdentity base = full_call().process;
  base.workload = nullptr;
  for (int i = 0; i < 3; ++i) {
    processes.push_back(base);
    processes.back().pid += static_cast<uint32_t>(i);
  }
  processes.push_back(base);
  processes.back().uid += 1;
  processes.push_back(base);
  processes.back().comm += "x";
  processes.push_back(base);
  processes.back().exe += "2";
  processes.push_back(base);
  processes.back().cmdline += " --flag";
  processes.push_back(base);
  processes.back().workload = workload(std::string(64, 'a'), "web-1");
  processes.push_back(base);
  processes.back().workload = workload(std::string(64, 'a'), "web-1");  // equal, not the same
  processes.push_back(base);
  processes.back().workload = workload(std::string(64, 'b'), "web-2");
  std::mt19937 random(4);
  for (int round = 0; round < 400; ++round) {
    const llm::ProcessIdentity& p =
        processes[round % 3 == 0 ? random() % processes.size() : random() % 3];
    llm::LlmCall call = full_call();
    call.process = p;
    const json e = event_of(call);
    std::string expected;
    {
      JsonWriter w(expected);
      w.begin_object();
      ocsf::write_process(w, "process", p);
      w.end_object();
    }
    ASSERT_EQ(e["actor"], json::parse(expected)) << round;
  }
}

}  // namespace
}  // namespace llmtap::sink
