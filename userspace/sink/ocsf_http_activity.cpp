#include "sink/ocsf_http_activity.h"

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

#include "sink/json_writer.h"

namespace llmtap::sink {

// HTTP Activity's activity_id enum: one value a method, Other (99) for the rest.
HttpActivity http_activity_of(std::string_view method) {
  static constexpr std::pair<std::string_view, HttpActivity> kMethods[] = {
      {"CONNECT", {1, "Connect"}}, {"DELETE", {2, "Delete"}},   {"GET", {3, "Get"}},
      {"HEAD", {4, "Head"}},       {"OPTIONS", {5, "Options"}}, {"POST", {6, "Post"}},
      {"PUT", {7, "Put"}},         {"TRACE", {8, "Trace"}},     {"PATCH", {9, "Patch"}}};
  if (method.empty()) return {0, "Unknown"};
  for (const auto& [name, activity] : kMethods) {
    if (name == method) return activity;
  }
  return {99, "Other"};
}

namespace {

using ocsf::Decimal;
using ocsf::IpText;

constexpr uint64_t kClassUid = kHttpActivityClassUid;
constexpr uint64_t kCategoryUid = 4;
constexpr uint64_t kNsPerMs = 1'000'000;

enum class Outcome : uint64_t { kUnknown = 0, kSuccess = 1, kFailure = 2 };

// A 2xx that still carried an error (an SSE `error` event) or was cut short did not succeed.
Outcome outcome_of(const llm::LlmCall& call) {
  if (call.status == 0) return Outcome::kUnknown;
  const bool ok = call.status >= 200 && call.status < 300 && call.error_type.empty() &&
                  !call.response_incomplete;
  return ok ? Outcome::kSuccess : Outcome::kFailure;
}

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSuccess:
      return "Success";
    case Outcome::kFailure:
      return "Failure";
    case Outcome::kUnknown:
      break;
  }
  return "Unknown";
}

std::string_view http_version_text(std::string_view version) {
  if (version == "1.1") return "HTTP/1.1";
  if (version == "1.0") return "HTTP/1.0";
  if (version == "2") return "HTTP/2";
  return version;
}

std::string_view model_of(const llm::LlmCall& call) {
  return call.response_model.empty() ? call.request_model : call.response_model;
}

void write_classification_members(JsonWriter& w, std::string_view method,
                                  const HttpActivity& activity) {
  w.number("class_uid", kClassUid);
  w.string("class_name", "HTTP Activity");
  w.number("category_uid", kCategoryUid);
  w.string("category_name", "Network Activity");
  w.number("activity_id", activity.id);
  // For Other, the source's own value: the method as sent.
  w.string("activity_name", activity.id == 99 ? method : activity.name);
  w.number("type_uid", kClassUid * 100 + activity.id);
  w.string_parts("type_name", {"HTTP Activity: ", activity.name});
  w.number("severity_id", 1);
  w.string("severity", "Informational");
}

// The members of each standard activity (every id but Other), written once.
constexpr size_t kStandardActivities = 10;  // Unknown (0) to Patch (9)

std::string_view standard_classification(uint64_t activity_id) {
  static const std::array<std::string, kStandardActivities> kTexts = [] {
    static constexpr std::string_view kMethods[kStandardActivities] = {
        "", "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "TRACE", "PATCH"};
    std::array<std::string, kStandardActivities> texts;
    for (size_t i = 0; i < kStandardActivities; ++i) {
      texts[i] = rendered_members([&](JsonWriter& m) {
        write_classification_members(m, kMethods[i], http_activity_of(kMethods[i]));
      });
    }
    return texts;
  }();
  return kTexts[activity_id];
}

void write_classification(JsonWriter& w, const llm::LlmCall& call) {
  const HttpActivity activity = http_activity_of(call.method);
  if (activity.id < kStandardActivities) return w.member_text(standard_classification(activity.id));
  write_classification_members(w, call.method, activity);  // Other: the method as sent
}

void write_outcome(JsonWriter& w, const llm::LlmCall& call) {
  const Outcome outcome = outcome_of(call);
  w.number("status_id", static_cast<uint64_t>(outcome));
  w.string("status", outcome_name(outcome));
  if (outcome == Outcome::kSuccess) return;
  if (!call.error_type.empty()) {
    w.string("status_code", call.error_type);
  } else if (call.status != 0) {
    w.string("status_code", Decimal(static_cast<uint64_t>(call.status)).view());
  }
  w.string_if("status_detail", call.error_message);
}

void write_times(JsonWriter& w, const llm::LlmCall& call) {
  const uint64_t start_ms = call.start_realtime_ns / kNsPerMs;
  w.number("time", start_ms);
  w.number("start_time", start_ms);
  if (call.latency_ns > 0) {
    w.number("end_time", (call.start_realtime_ns + call.latency_ns) / kNsPerMs);
    w.number("duration", call.latency_ns / kNsPerMs);
  }
}

void write_metadata(JsonWriter& w, const llm::LlmCall& call, const OcsfContext& context) {
  ocsf::begin_metadata(w, context);
  ocsf::write_call_event_uid(w, "uid", context, call.sequence);
  w.number("sequence", call.sequence);
  w.string("log_name", "llm");
  w.begin_array("profiles");
  w.element("host");
  w.element("ai_operation");
  ocsf::add_container_profile(w, call.process);
  w.end_array();
  w.end_object();
}

void write_traffic(JsonWriter& w, const llm::LlmCall& call) {
  w.begin_object("traffic");
  w.number("bytes_out", call.request_bytes);
  w.number("bytes_in", call.response_bytes);
  w.number("bytes", call.request_bytes + call.response_bytes);
  w.end_object();
}

void write_http(JsonWriter& w, const llm::LlmCall& call) {
  const capture::Endpoint& server = ocsf::server_of(call);
  const IpText ip(server);
  const std::string_view host = call.server_name.empty() ? ip.view() : call.server_name;
  const bool bracket = call.server_name.empty() && ip.v6();
  const uint16_t port = server.port;
  const Decimal port_text(port);
  const bool show_port = port != 0 && port != 443;

  w.begin_object("http_request");
  w.string_if("http_method", call.method);
  w.begin_object("url");
  w.string("scheme", "https");
  w.string_if("hostname", host);
  if (port != 0) w.number("port", port);
  w.string_if("path", call.path);
  if (!host.empty()) {  // no URL without a host
    w.string_parts("url_string",
                   {"https://", bracket ? "[" : "", host, bracket ? "]" : "", show_port ? ":" : "",
                    show_port ? port_text.view() : "", call.path});
  }
  w.end_object();
  w.string_if("version", http_version_text(call.http_version));
  w.string_if("user_agent", call.user_agent);
  if (call.request_bytes != 0) w.number("length", call.request_bytes);
  w.end_object();

  if (call.status == 0) return;  // no response came
  const auto code = static_cast<uint64_t>(call.status);
  w.begin_object("http_response");
  w.number("code", code);
  if (call.response_bytes != 0) w.number("length", call.response_bytes);
  if (call.ttfb_ns != 0) w.number("latency", call.ttfb_ns / kNsPerMs);
  w.end_object();
  w.number("http_status", code);
}

// The ai_operation profile: ai_model (name and ai_provider are required, so only with a model)
// and message_context (token counts; the content when the content switch is on).
void write_ai_operation(JsonWriter& w, const llm::LlmCall& call) {
  const std::string_view model = model_of(call);
  if (!model.empty()) {
    w.begin_object("ai_model");
    w.string_if("ai_provider", call.provider);
    w.string("name", model);
    w.end_object();
  }
  const llm::TokenUsage& tokens = call.tokens;
  const bool has_context = tokens.input || tokens.output || tokens.total ||
                           !call.response_id.empty() || call.prompt_text || call.completion_text;
  if (!has_context) return;
  w.begin_object("message_context");
  w.string_if("uid", call.response_id);
  if (!call.server_name.empty()) {
    w.begin_object("service");
    w.string("name", call.server_name);
    w.end_object();
  }
  if (tokens.input) w.number("prompt_tokens", *tokens.input);
  if (tokens.output) w.number("completion_tokens", *tokens.output);
  if (tokens.total) w.number("total_tokens", *tokens.total);
  if (call.prompt_text) w.string("prompt_text", *call.prompt_text);
  if (call.completion_text) w.string("response_text", *call.completion_text);
  w.end_object();
}

// llmtap's own fields that OCSF has no attribute for.
void write_unmapped(JsonWriter& w, const llm::LlmCall& call) {
  const llm::TokenUsage& tokens = call.tokens;
  w.begin_object("unmapped");
  w.begin_object("llmtap");
  if (call.process.workload) ocsf::write_pod(w, *call.process.workload);
  w.string_if("provider", call.provider);
  w.string_if("api", call.api);
  w.string_if("operation", call.operation);
  w.string_if("request_model", call.request_model);
  w.string_if("response_model", call.response_model);
  w.boolean("stream", call.stream);
  if (call.stream) w.number("stream_events", call.stream_events);
  if (tokens.cached) w.number("cached_tokens", *tokens.cached);
  if (tokens.cache_creation) w.number("cache_creation_tokens", *tokens.cache_creation);
  if (tokens.reasoning) w.number("reasoning_tokens", *tokens.reasoning);
  if (call.cost_usd) w.number_fixed("cost_usd", *call.cost_usd, 6);
  if (call.ttfb_ns != 0) w.number("ttfb_ms", call.ttfb_ns / kNsPerMs);
  w.string_if("error_type", call.error_type);
  w.string_if("error_message", call.error_message);
  w.string_if("finish_reason", call.finish_reason);
  w.string_if("response_id", call.response_id);
  w.number("request_body_bytes", call.request_body_bytes);
  w.number("response_body_bytes", call.response_body_bytes);
  w.boolean("request_truncated", call.request_truncated);
  w.boolean("response_truncated", call.response_truncated);
  w.boolean("response_incomplete", call.response_incomplete);
  w.string_if("auth_style", call.auth_style);
  w.string_if("api_key_fingerprint", ocsf::api_key_fingerprint(call));
  w.string("captured_side", call.served ? "server" : "client");
  if (call.process.cgroup_id != 0) w.number("cgroup_id", call.process.cgroup_id);
  if (call.tls_lib != capture::TlsLib::kUnknown) {
    w.string("tls_lib", capture::to_string(call.tls_lib));
  }
  w.end_object();
  w.end_object();
}

}  // namespace

void append_ocsf_http_activity(const llm::LlmCall& call, const OcsfContext& context,
                               std::string& out) {
  JsonWriter w(out);
  w.begin_object();
  write_classification(w, call);
  write_outcome(w, call);
  write_times(w, call);
  write_metadata(w, call, context);
  ocsf::write_actor(w, call.process);
  ocsf::write_device(w, context);
  // src is the client, dst the server, whichever end was captured.
  ocsf::write_src_endpoint(w, call);
  ocsf::write_dst_endpoint(w, call);
  ocsf::write_connection_info(w, call);
  write_traffic(w, call);
  write_http(w, call);
  write_ai_operation(w, call);
  write_unmapped(w, call);
  w.end_object();
  w.finish();
  out.push_back('\n');
}

}  // namespace llmtap::sink
