#include "export/event_formats.h"

#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace llmtap::exporter {
namespace {

using nlohmann::json;
using Path = std::initializer_list<std::string_view>;

constexpr uint64_t kHttpActivity = 4002;
constexpr uint64_t kDetectionFinding = 2004;
constexpr uint64_t kDataSecurityFinding = 2006;

// ---- Reading the OCSF event: absent or mistyped members are nullopt, never an exception.

const json* find(const json& root, Path path) {
  const json* at = &root;
  for (const std::string_view key : path) {
    if (!at->is_object()) return nullptr;
    const auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

// A non-empty string.
std::optional<std::string> text_at(const json& root, Path path) {
  const json* v = find(root, path);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  std::string s = v->get<std::string>();
  if (s.empty()) return std::nullopt;
  return s;
}

// A whole number >= 0 (what every count, id, port and time of llmtap's events is).
std::optional<uint64_t> count_at(const json& root, Path path) {
  const json* v = find(root, path);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer() && v->get<int64_t>() >= 0) {
    return static_cast<uint64_t>(v->get<int64_t>());
  }
  return std::nullopt;
}

std::optional<bool> flag_at(const json& root, Path path) {
  const json* v = find(root, path);
  if (v == nullptr || !v->is_boolean()) return std::nullopt;
  return v->get<bool>();
}

template <typename T>
std::optional<T> first_of(std::optional<T> a, std::optional<T> b) {
  return a ? a : b;
}

// The digits of a decimal string ("77", as OCSF's connection_info.uid holds it).
std::optional<uint64_t> decimal(const std::optional<std::string>& s) {
  if (!s || s->size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (const char c : *s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

// 2023-11-14T22:13:20.123Z
std::optional<std::string> iso8601_ms(std::optional<uint64_t> ms) {
  if (!ms) return std::nullopt;
  const auto secs = static_cast<time_t>(*ms / 1000);
  std::tm tm{};
  if (gmtime_r(&secs, &tm) == nullptr) return std::nullopt;
  char buf[48];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
                              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                              tm.tm_sec, static_cast<unsigned>(*ms % 1000));
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

// ---- What kind of event it is, and the parts the formats share.

enum class EventClass { kCall, kDetectionFinding, kDataSecurityFinding };

EventClass class_of(const json& ocsf) {
  const std::optional<uint64_t> uid = count_at(ocsf, {"class_uid"});
  if (uid == kDetectionFinding) return EventClass::kDetectionFinding;
  if (uid == kDataSecurityFinding) return EventClass::kDataSecurityFinding;
  // Findings are category 2 whatever their class; anything else is read as a call.
  if (uid != kHttpActivity && count_at(ocsf, {"category_uid"}) == 2u) {
    return EventClass::kDetectionFinding;
  }
  return EventClass::kCall;
}

bool is_finding(EventClass c) { return c != EventClass::kCall; }

// A Detection Finding names the call's server and connection in its first evidence; the other
// classes at the top level.
const json& call_artefacts(const json& ocsf) {
  if (const json* e = find(ocsf, {"evidences"}); e != nullptr && e->is_array() && !e->empty()) {
    if (!ocsf.contains("dst_endpoint") && (*e)[0].is_object()) return (*e)[0];
  }
  return ocsf;
}

// The process is the server when it answered the call (an LLM server or gateway) rather than
// made it.
bool process_is_server(const json& ocsf) {
  const json& artefacts = call_artefacts(ocsf);
  if (count_at(artefacts, {"connection_info", "direction_id"}) == 1u) return true;
  return text_at(ocsf, {"unmapped", "llmtap", "captured_side"}) == "server";
}

std::optional<std::string> finding_title(const json& ocsf) {
  return first_of(text_at(ocsf, {"message"}), text_at(ocsf, {"finding_info", "title"}));
}

std::optional<std::string> rule_id(const json& ocsf) {
  return first_of(text_at(ocsf, {"finding_info", "analytic", "uid"}),
                  text_at(ocsf, {"unmapped", "llmtap", "rule_id"}));
}

// What llmtap did about a finding: the enforcer's action ("kill_connection",
// "would_kill_connection" in audit mode) when one ran, else the alert every finding is.
std::string finding_action(const json& ocsf) {
  return text_at(ocsf, {"unmapped", "llmtap", "action", "name"}).value_or("alert");
}

// Whether that action worked: only an enforcement action has an outcome (an alert or an
// audit-mode action did nothing that could fail).
std::optional<std::string_view> finding_outcome(const json& ocsf) {
  const json* action = find(ocsf, {"unmapped", "llmtap", "action"});
  if (action == nullptr || !action->is_object()) return std::nullopt;
  if (text_at(*action, {"mode"}) == "audit") return std::nullopt;
  const bool attempted = flag_at(*action, {"attempted"}).value_or(false);
  const bool succeeded = flag_at(*action, {"succeeded"}).value_or(false);
  return attempted && succeeded ? "success" : "failure";
}

// A call's outcome from OCSF status_id: 1 Success, 2 Failure, else (no response) unknown.
std::string_view call_outcome(const json& ocsf) {
  const std::optional<uint64_t> status = count_at(ocsf, {"status_id"});
  if (status == 1u) return "success";
  if (status == 2u) return "failure";
  return "unknown";
}

std::optional<std::string> provider_of(const json& ocsf) {
  return first_of(text_at(ocsf, {"ai_model", "ai_provider"}),
                  text_at(ocsf, {"unmapped", "llmtap", "provider"}));
}

// The model as the response named it, else as the request did (as OCSF's ai_model.name).
std::optional<std::string> model_of(const json& ocsf) {
  if (auto name = text_at(ocsf, {"ai_model", "name"})) return name;
  return first_of(text_at(ocsf, {"unmapped", "llmtap", "response_model"}),
                  text_at(ocsf, {"unmapped", "llmtap", "request_model"}));
}

// OpenTelemetry's gen_ai.operation.name for llmtap's operation (userspace/llm/api_family.cpp):
// its well-known values where one fits, else llmtap's own name.
std::string otel_operation(const std::string& operation) {
  static constexpr std::pair<std::string_view, std::string_view> kWellKnown[] = {
      {"chat_completions", "chat"},
      {"messages", "chat"},
      {"responses", "chat"},
      {"chat", "chat"},
      {"converse", "chat"},
      {"converse_stream", "chat"},
      {"embeddings", "embeddings"},
      {"embed", "embeddings"},
      {"embed_content", "embeddings"},
      {"completions", "text_completion"},
      {"generate", "text_completion"},
      {"generate_content", "generate_content"},
      {"stream_generate_content", "generate_content"},
  };
  for (const auto& [ours, otel] : kWellKnown) {
    if (ours == operation) return std::string(otel);
  }
  return operation;
}

// ---- ECS.

// Sets the member a dotted ECS name names, making the objects on the way.
void put(json& doc, std::string_view dotted, json value) {
  json* at = &doc;
  size_t start = 0;
  for (size_t dot; (dot = dotted.find('.', start)) != std::string_view::npos; start = dot + 1) {
    json& next = (*at)[std::string(dotted.substr(start, dot - start))];
    if (!next.is_object()) next = json::object();
    at = &next;
  }
  (*at)[std::string(dotted.substr(start))] = std::move(value);
}

template <typename T>
void put_if(json& doc, std::string_view dotted, const std::optional<T>& value) {
  if (value) put(doc, dotted, *value);
}

// Elasticsearch reads a dot in a key as a level of objects, so "app.kubernetes.io/name"
// beside "app" would clash; Elastic's Kubernetes metadata replaces dots with '_' (dedot).
json dedotted(const json& labels) {
  json out = json::object();
  if (!labels.is_object()) return out;
  for (const auto& [key, value] : labels.items()) {
    if (!value.is_string()) continue;
    std::string k = key;
    for (char& c : k) {
      if (c == '.') c = '_';
    }
    out[k] = value;
  }
  return out;
}

void add_unique(json& array, const std::optional<std::string>& value) {
  if (!value) return;
  for (const json& v : array) {
    if (v == *value) return;
  }
  array.push_back(*value);
}

void ecs_categorization(json& doc, const json& ocsf, EventClass cls) {
  put(doc, "event.module", "llmtap");
  put_if(doc, "event.id", text_at(ocsf, {"metadata", "uid"}));
  put_if(doc, "event.severity", count_at(ocsf, {"severity_id"}));
  if (!is_finding(cls)) {
    put(doc, "event.kind", "event");
    put(doc, "event.category", json::array({"network", "web"}));
    put(doc, "event.type", json::array({"access", "protocol"}));
    put(doc, "event.dataset", "llmtap.llm");
    put(doc, "event.action", "llm-call");
    put(doc, "event.outcome", std::string(call_outcome(ocsf)));
    put_if(doc, "event.start", iso8601_ms(count_at(ocsf, {"start_time"})));
    put_if(doc, "event.end", iso8601_ms(count_at(ocsf, {"end_time"})));
    if (auto ms = count_at(ocsf, {"duration"})) put(doc, "event.duration", *ms * 1'000'000);
    return;
  }
  // ECS has no data-loss category: intrusion_detection is its bucket for detections a host or
  // network control makes (threat is for threat-intelligence indicators, configuration for
  // changes to settings). The type says what the control did with the call.
  const std::optional<uint64_t> action_id = count_at(ocsf, {"action_id"});
  const char* type = action_id == 2u ? "denied" : action_id == 1u ? "allowed" : "info";
  put(doc, "event.kind", "alert");
  put(doc, "event.category", json::array({"intrusion_detection"}));
  put(doc, "event.type", json::array({type}));
  put(doc, "event.dataset", "llmtap.finding");
  put(doc, "event.action", finding_action(ocsf));
  if (auto outcome = finding_outcome(ocsf)) put(doc, "event.outcome", std::string(*outcome));
  // First and (for an Update, which counts repeats) last time it happened.
  put_if(doc, "event.start", iso8601_ms(count_at(ocsf, {"finding_info", "created_time"})));
  put_if(doc, "event.end", iso8601_ms(count_at(ocsf, {"finding_info", "modified_time"})));
}

void ecs_agent_and_host(json& doc, const json& ocsf) {
  put(doc, "observer.vendor", "llmtap");
  put(doc, "observer.product", "llmtap");
  put_if(doc, "observer.version", text_at(ocsf, {"metadata", "product", "version"}));
  const std::optional<std::string> hostname = text_at(ocsf, {"device", "hostname"});
  put_if(doc, "host.hostname", hostname);
  put_if(doc, "host.name", hostname);
}

void ecs_process(json& doc, const json& ocsf) {
  const json* process = find(ocsf, {"actor", "process"});
  if (process == nullptr) return;
  put_if(doc, "process.pid", count_at(*process, {"pid"}));
  put_if(doc, "process.name", text_at(*process, {"name"}));
  put_if(doc, "process.executable", text_at(*process, {"file", "path"}));
  put_if(doc, "process.command_line", text_at(*process, {"cmd_line"}));
  put_if(doc, "user.id", text_at(*process, {"user", "uid"}));
}

// The container from OCSF's container profile, the pod from unmapped.llmtap.pod. Kubernetes
// facts go both to ECS orchestrator.* and to kubernetes.*, which ECS lacks but Elastic's
// Kubernetes integrations and dashboards read.
void ecs_workload(json& doc, const json& ocsf) {
  const json* container = find(ocsf, {"actor", "process", "container"});
  const json* pod = find(ocsf, {"unmapped", "llmtap", "pod"});
  if (container != nullptr && !container->is_object()) container = nullptr;
  if (pod != nullptr && !pod->is_object()) pod = nullptr;
  if (container != nullptr) {
    put_if(doc, "container.id", text_at(*container, {"uid"}));
    put_if(doc, "container.name", text_at(*container, {"name"}));
    put_if(doc, "container.image.name", text_at(*container, {"image", "name"}));
    if (auto digest = text_at(*container, {"image", "uid"})) {
      put(doc, "container.image.hash.all", json::array({*digest}));
    }
    put_if(doc, "container.runtime", text_at(*container, {"runtime"}));
  }
  // The pod's uid is known from the cgroup path before the API names the pod.
  std::optional<std::string> pod_uid = pod != nullptr ? text_at(*pod, {"uid"}) : std::nullopt;
  if (!pod_uid && container != nullptr) pod_uid = text_at(*container, {"pod_uuid"});
  const bool in_kubernetes =
      pod != nullptr || pod_uid ||
      (container != nullptr && text_at(*container, {"orchestrator"}) == "Kubernetes");
  if (!in_kubernetes) return;
  put(doc, "orchestrator.type", "kubernetes");
  put(doc, "orchestrator.resource.type", "pod");
  put_if(doc, "orchestrator.resource.id", pod_uid);
  put_if(doc, "kubernetes.pod.uid", pod_uid);
  if (pod == nullptr) return;  // the API has not told of the pod (yet): its uid alone
  const std::optional<std::string> ns = text_at(*pod, {"namespace"});
  const std::optional<std::string> name = text_at(*pod, {"name"});
  put_if(doc, "orchestrator.namespace", ns);
  put_if(doc, "orchestrator.resource.name", name);
  put_if(doc, "kubernetes.namespace", ns);
  put_if(doc, "kubernetes.pod.name", name);
  put_if(doc, "kubernetes.pod.ip", text_at(*pod, {"ip"}));
  put_if(doc, "kubernetes.node.name", text_at(*pod, {"node"}));
  put_if(doc, "kubernetes.container.name", text_at(*pod, {"container"}));
  if (const json* labels = find(*pod, {"labels"}); labels != nullptr && !labels->empty()) {
    json clean = dedotted(*labels);
    if (!clean.empty()) put(doc, "kubernetes.labels", std::move(clean));
  }
}

void ecs_network(json& doc, const json& ocsf) {
  const json& artefacts = call_artefacts(ocsf);
  json ips = json::array();
  json hosts = json::array();
  if (const json* src = find(ocsf, {"src_endpoint"})) {
    const std::optional<std::string> ip = text_at(*src, {"ip"});
    put_if(doc, "source.ip", ip);
    put_if(doc, "source.port", count_at(*src, {"port"}));
    add_unique(ips, ip);
  }
  if (const json* dst = find(artefacts, {"dst_endpoint"})) {
    const std::optional<std::string> ip = text_at(*dst, {"ip"});
    const std::optional<std::string> domain = text_at(*dst, {"hostname"});
    put_if(doc, "destination.ip", ip);
    put_if(doc, "destination.port", count_at(*dst, {"port"}));
    put_if(doc, "destination.domain", domain);
    add_unique(ips, ip);
    add_unique(hosts, domain);
  }
  add_unique(hosts, text_at(ocsf, {"device", "hostname"}));
  if (!ips.empty()) put(doc, "related.ip", std::move(ips));
  if (!hosts.empty()) put(doc, "related.hosts", std::move(hosts));

  if (const json* conn = find(artefacts, {"connection_info"})) {
    put_if(doc, "network.transport", text_at(*conn, {"protocol_name"}));
    const std::optional<uint64_t> version = count_at(*conn, {"protocol_ver_id"});
    if (version == 4u) put(doc, "network.type", "ipv4");
    if (version == 6u) put(doc, "network.type", "ipv6");
    // Seen from the host llmtap runs on (ECS: egress/ingress for a host-based observer).
    const std::optional<uint64_t> direction = count_at(*conn, {"direction_id"});
    if (direction == 2u) put(doc, "network.direction", "egress");
    if (direction == 1u) put(doc, "network.direction", "ingress");
  }
  if (const json* traffic = find(ocsf, {"traffic"})) {
    put_if(doc, "source.bytes", count_at(*traffic, {"bytes_out"}));
    put_if(doc, "destination.bytes", count_at(*traffic, {"bytes_in"}));
    put_if(doc, "network.bytes", count_at(*traffic, {"bytes"}));
  }
}

void ecs_http(json& doc, const json& ocsf) {
  const json* request = find(ocsf, {"http_request"});
  if (request == nullptr) return;
  put(doc, "network.protocol", "http");
  put_if(doc, "http.request.method", text_at(*request, {"http_method"}));
  put_if(doc, "http.request.bytes", count_at(*request, {"length"}));
  if (auto version = text_at(*request, {"version"})) {  // "HTTP/1.1" -> "1.1"
    constexpr std::string_view kPrefix = "HTTP/";
    if (version->starts_with(kPrefix)) version->erase(0, kPrefix.size());
    put(doc, "http.version", *version);
  }
  put_if(doc, "user_agent.original", text_at(*request, {"user_agent"}));
  if (const json* url = find(*request, {"url"})) {
    put_if(doc, "url.full", text_at(*url, {"url_string"}));
    put_if(doc, "url.scheme", text_at(*url, {"scheme"}));
    put_if(doc, "url.domain", text_at(*url, {"hostname"}));
    put_if(doc, "url.port", count_at(*url, {"port"}));
    put_if(doc, "url.path", text_at(*url, {"path"}));
  }
  put_if(doc, "http.response.status_code", count_at(ocsf, {"http_response", "code"}));
  put_if(doc, "http.response.bytes", count_at(ocsf, {"http_response", "length"}));
  // A failed call's provider error (status_code/status_detail are written only then).
  if (call_outcome(ocsf) == "failure") {
    put_if(doc, "error.code", text_at(ocsf, {"status_code"}));
    put_if(doc, "error.message", text_at(ocsf, {"status_detail"}));
  }
}

// OpenTelemetry GenAI attributes. Findings carry the provider and models too (in
// unmapped.llmtap), so a finding and its call share them.
void ecs_gen_ai(json& doc, const json& ocsf) {
  put_if(doc, "gen_ai.system", provider_of(ocsf));
  put_if(doc, "gen_ai.request.model", text_at(ocsf, {"unmapped", "llmtap", "request_model"}));
  put_if(doc, "gen_ai.response.model", text_at(ocsf, {"unmapped", "llmtap", "response_model"}));
  if (auto operation = text_at(ocsf, {"unmapped", "llmtap", "operation"})) {
    put(doc, "gen_ai.operation.name", otel_operation(*operation));
  }
  put_if(doc, "gen_ai.response.id",
         first_of(text_at(ocsf, {"message_context", "uid"}),
                  text_at(ocsf, {"unmapped", "llmtap", "response_id"})));
  if (auto reason = text_at(ocsf, {"unmapped", "llmtap", "finish_reason"})) {
    put(doc, "gen_ai.response.finish_reasons", json::array({*reason}));
  }
  put_if(doc, "gen_ai.usage.input_tokens", count_at(ocsf, {"message_context", "prompt_tokens"}));
  put_if(doc, "gen_ai.usage.output_tokens",
         count_at(ocsf, {"message_context", "completion_tokens"}));
}

void ecs_finding(json& doc, const json& ocsf) {
  put_if(doc, "message", finding_title(ocsf));
  const json* analytic = find(ocsf, {"finding_info", "analytic"});
  put_if(doc, "rule.id", rule_id(ocsf));
  put_if(doc, "rule.name",
         first_of(analytic != nullptr ? text_at(*analytic, {"name"}) : std::nullopt,
                  text_at(ocsf, {"unmapped", "llmtap", "rule_id"})));
  put_if(doc, "rule.description", text_at(ocsf, {"finding_info", "desc"}));
  const std::optional<std::string> kind = text_at(ocsf, {"unmapped", "llmtap", "kind"});
  put_if(doc, "rule.category", kind);
  // Prompt injection is MITRE ATLAS's AML.T0051; the other kinds (a model, data, a budget)
  // are policy matches, not adversary techniques.
  if (kind == "prompt_attack") {
    put(doc, "threat.framework", "MITRE ATLAS");
    put(doc, "threat.technique.id", json::array({"AML.T0051"}));
    put(doc, "threat.technique.name", json::array({"LLM Prompt Injection"}));
    put(doc, "threat.technique.reference",
        json::array({"https://atlas.mitre.org/techniques/AML.T0051"}));
  }
}

// The detectors that matched, each once: a Data Security Finding lists its detections in
// unmapped.llmtap.detections, a Detection Finding one evidence each.
json detector_ids(const json& ocsf) {
  json ids = json::array();
  const json* lists[] = {find(ocsf, {"unmapped", "llmtap", "detections"}),
                         find(ocsf, {"evidences"})};
  for (const json* list : lists) {
    if (list == nullptr || !list->is_array()) continue;
    for (const json& item : *list) {
      add_unique(ids,
                 first_of(text_at(item, {"detector_id"}), text_at(item, {"data", "detector_id"})));
    }
  }
  return ids;
}

// llmtap.*: OCSF's unmapped.llmtap as it is (pod labels dedotted), and what neither ECS nor
// the OTel names hold.
void ecs_llmtap(json& doc, const json& ocsf, EventClass cls) {
  json llmtap = json::object();
  if (const json* ours = find(ocsf, {"unmapped", "llmtap"}); ours != nullptr && ours->is_object()) {
    llmtap = *ours;
    if (json* pod = llmtap.contains("pod") ? &llmtap["pod"] : nullptr;
        pod != nullptr && pod->is_object() && pod->contains("labels")) {
      (*pod)["labels"] = dedotted((*pod)["labels"]);
    }
  }
  if (!is_finding(cls)) {
    // The connection id as findings write it (a number), so calls and findings join on it.
    const json& artefacts = call_artefacts(ocsf);
    if (auto id = decimal(text_at(artefacts, {"connection_info", "uid"}))) {
      llmtap["conn_id"] = *id;
    }
    if (auto total = count_at(ocsf, {"message_context", "total_tokens"})) {
      llmtap["total_tokens"] = *total;
    }
    if (auto prompt = text_at(ocsf, {"message_context", "prompt_text"})) {
      llmtap["prompt_text"] = *prompt;
    }
    if (auto response = text_at(ocsf, {"message_context", "response_text"})) {
      llmtap["response_text"] = *response;
    }
  } else {
    if (auto uid = text_at(ocsf, {"finding_info", "uid"})) llmtap["finding_uid"] = *uid;
    // The call's own event: its event.id in the llmtap.llm dataset.
    if (const json* related = find(ocsf, {"finding_info", "related_events"});
        related != nullptr && related->is_array() && !related->empty()) {
      if (auto uid = text_at((*related)[0], {"uid"})) llmtap["call_event_id"] = *uid;
    }
    if (auto confidence = text_at(ocsf, {"confidence"})) llmtap["confidence"] = *confidence;
    json ids = detector_ids(ocsf);
    if (!ids.empty()) llmtap["detectors"] = std::move(ids);
  }
  if (!llmtap.empty()) doc["llmtap"] = std::move(llmtap);
}

// ---- CEF.

// Header fields: '|' and '\' escaped; a line break would end the record, so control
// characters become spaces (CEF allows line breaks only in extension values).
std::string cef_header(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    if (c == '\\' || c == '|') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Extension values: '\' and '=' escaped, line breaks as \n and \r; other control characters
// become spaces (a NUL or an escape has no business in a syslog record).
std::string cef_value(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '=':
        out += "\\=";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
        break;
    }
  }
  return out;
}

// OCSF severity_id (0 Unknown .. 6 Fatal, 99 Other) on CEF's 0-10 (0-3 Low, 4-6 Medium, 7-8
// High, 9-10 Very-High): Informational sits low in Low, each OCSF step one band up.
int cef_severity(std::optional<uint64_t> severity_id) {
  if (!severity_id) return 0;
  static constexpr std::array<int, 7> kScale = {0, 1, 3, 5, 7, 9, 10};
  return *severity_id < kScale.size() ? kScale[*severity_id] : 0;
}

class CefExtension {
 public:
  void add(std::string_view key, const std::optional<std::string>& value) {
    if (value && !value->empty()) append(key, cef_value(*value));
  }
  void add(std::string_view key, std::optional<uint64_t> value) {
    if (value) append(key, std::to_string(*value));
  }
  // A device custom field and its label (cs1=openai cs1Label=provider).
  void custom(std::string_view key, const std::optional<std::string>& value,
              std::string_view label) {
    if (!value || value->empty()) return;
    append(key, cef_value(*value));
    append(std::string(key) + "Label", std::string(label));
  }
  void custom(std::string_view key, std::optional<uint64_t> value, std::string_view label) {
    if (!value) return;
    append(key, std::to_string(*value));
    append(std::string(key) + "Label", std::string(label));
  }
  const std::string& text() const { return text_; }

 private:
  void append(std::string_view key, std::string_view escaped) {
    if (!text_.empty()) text_.push_back(' ');
    text_.append(key).push_back('=');
    text_.append(escaped);
  }
  std::string text_;
};

}  // namespace

json ocsf_to_ecs(const json& ocsf) {
  const EventClass cls = class_of(ocsf);
  json doc = json::object();
  put_if(doc, "@timestamp", iso8601_ms(count_at(ocsf, {"time"})));
  put(doc, "ecs.version", std::string(kEcsVersion));
  ecs_categorization(doc, ocsf, cls);
  ecs_agent_and_host(doc, ocsf);
  ecs_process(doc, ocsf);
  ecs_workload(doc, ocsf);
  ecs_network(doc, ocsf);
  if (!is_finding(cls)) ecs_http(doc, ocsf);
  if (is_finding(cls)) ecs_finding(doc, ocsf);
  ecs_gen_ai(doc, ocsf);
  ecs_llmtap(doc, ocsf, cls);
  return doc;
}

std::string ocsf_to_cef(const json& ocsf) {
  const EventClass cls = class_of(ocsf);
  const bool finding = is_finding(cls);
  const json& artefacts = call_artefacts(ocsf);

  std::string line = "CEF:0|llmtap|llmtap|";
  line += cef_header(text_at(ocsf, {"metadata", "product", "version"}).value_or(""));
  line += '|';
  line += cef_header(finding ? rule_id(ocsf).value_or("finding") : "llm-call");
  line += '|';
  line += cef_header(finding ? finding_title(ocsf).value_or(rule_id(ocsf).value_or("Finding"))
                             : "LLM API call");
  line += '|';
  line += std::to_string(cef_severity(count_at(ocsf, {"severity_id"})));
  line += '|';

  CefExtension ext;
  ext.add("rt", count_at(ocsf, {"time"}));
  ext.add("cat", text_at(ocsf, {"class_name"}));
  ext.add("externalId", text_at(ocsf, {"metadata", "uid"}));
  ext.add("dvchost", text_at(ocsf, {"device", "hostname"}));
  if (finding) {
    ext.add("act", std::optional<std::string>(finding_action(ocsf)));
    if (auto outcome = finding_outcome(ocsf)) ext.add("outcome", std::string(*outcome));
    ext.add("msg", finding_title(ocsf));
    ext.add("reason", text_at(ocsf, {"unmapped", "llmtap", "reason"}));
    ext.add("cnt", count_at(ocsf, {"count"}));
  } else if (const std::string_view outcome = call_outcome(ocsf); outcome != "unknown") {
    ext.add("outcome", std::string(outcome));
  }
  ext.add("src", text_at(ocsf, {"src_endpoint", "ip"}));
  ext.add("spt", count_at(ocsf, {"src_endpoint", "port"}));
  ext.add("dst", text_at(artefacts, {"dst_endpoint", "ip"}));
  ext.add("dpt", count_at(artefacts, {"dst_endpoint", "port"}));
  ext.add("dhost", text_at(artefacts, {"dst_endpoint", "hostname"}));
  if (auto transport = text_at(artefacts, {"connection_info", "protocol_name"})) {
    for (char& c : *transport) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    ext.add("proto", transport);
  }
  ext.add("requestMethod", text_at(ocsf, {"http_request", "http_method"}));
  ext.add("request", text_at(ocsf, {"http_request", "url", "url_string"}));
  ext.add("requestClientApplication", text_at(ocsf, {"http_request", "user_agent"}));
  // CEF's in/out follow the source -> destination relationship: `in` is what the source (the
  // client) sent, `out` what came back to it.
  ext.add("in", count_at(ocsf, {"traffic", "bytes_out"}));
  ext.add("out", count_at(ocsf, {"traffic", "bytes_in"}));
  // The process is the source when it made the call, the destination when it answered it.
  const bool server = process_is_server(ocsf);
  if (const json* process = find(ocsf, {"actor", "process"})) {
    ext.add(server ? "dpid" : "spid", count_at(*process, {"pid"}));
    ext.add(server ? "dproc" : "sproc", text_at(*process, {"name"}));
    ext.add(server ? "duid" : "suid", text_at(*process, {"user", "uid"}));
  }
  ext.custom("cs1", provider_of(ocsf), "provider");
  ext.custom("cs2", model_of(ocsf), "model");
  const std::optional<std::string> ns = text_at(ocsf, {"unmapped", "llmtap", "pod", "namespace"});
  const std::optional<std::string> pod = text_at(ocsf, {"unmapped", "llmtap", "pod", "name"});
  if (ns && pod) ext.custom("cs3", *ns + "/" + *pod, "pod");
  ext.custom("cs4", text_at(ocsf, {"actor", "process", "container", "uid"}), "container");
  if (finding) ext.custom("cs5", rule_id(ocsf), "rule");
  ext.custom("cn1", count_at(ocsf, {"message_context", "prompt_tokens"}), "inputTokens");
  ext.custom("cn2", count_at(ocsf, {"message_context", "completion_tokens"}), "outputTokens");

  line += ext.text();
  return line;
}

}  // namespace llmtap::exporter
