#include "sink/ocsf_finding.h"

#include <cstdint>
#include <string_view>
#include <vector>

#include "policy/detection/detector_catalog.h"
#include "sink/json_writer.h"
#include "sink/ocsf_http_activity.h"

namespace llmtap::sink {
namespace {

using ocsf::Decimal;
using policy::Evidence;
using policy::Finding;
using policy::FindingKind;

constexpr uint64_t kCategoryUid = 2;
constexpr uint64_t kNsPerMs = 1'000'000;

struct Enumerated {
  uint64_t id;
  std::string_view name;
};

// Data exfiltration is what Data Security Finding is for (DLP detections, with data_security);
// everything else is a detection of a rule.
bool is_data_security(const Finding& f) { return f.kind == FindingKind::kDataExfiltration; }

Enumerated finding_class(const Finding& f) {
  return is_data_security(f) ? Enumerated{kDataSecurityFindingClassUid, "Data Security Finding"}
                             : Enumerated{kDetectionFindingClassUid, "Detection Finding"};
}

// A finding first reported earlier and counted since is an Update of it (same finding_info.uid).
Enumerated finding_activity(const Finding& f) {
  return f.update ? Enumerated{2, "Update"} : Enumerated{1, "Create"};
}

// policy::Severity values are OCSF severity_id.
std::string_view severity_caption(policy::Severity s) {
  switch (s) {
    case policy::Severity::kInfo:
      return "Informational";
    case policy::Severity::kLow:
      return "Low";
    case policy::Severity::kMedium:
      return "Medium";
    case policy::Severity::kHigh:
      return "High";
    case policy::Severity::kCritical:
      return "Critical";
  }
  return "Unknown";
}

// policy::Confidence values are OCSF confidence_id.
std::string_view confidence_caption(policy::Confidence c) {
  switch (c) {
    case policy::Confidence::kLow:
      return "Low";
    case policy::Confidence::kMedium:
      return "Medium";
    case policy::Confidence::kHigh:
      return "High";
  }
  return "Unknown";
}

struct ControlOutcome {
  Enumerated action;       // action_id: what the control did with the activity
  Enumerated disposition;  // disposition_id: the outcome of it
};

// What llmtap did about the finding (security_control): an alert is Observed/Detected; an
// action in audit mode Observed/Logged; a connection destroyed Denied/Reset, a process killed
// or a held call stopped before its bytes left Denied/Blocked; an action that failed
// Observed/Error, one refused (never-touch list, pid 1) Observed/No Action.
ControlOutcome control_outcome(const Finding& f) {
  constexpr ControlOutcome kObservedDetected{{3, "Observed"}, {15, "Detected"}};
  if (!f.outcome) return kObservedDetected;
  const policy::ActionOutcome& o = *f.outcome;
  if (o.audit) return {{3, "Observed"}, {17, "Logged"}};
  if (!o.attempted) return {{3, "Observed"}, {16, "No Action"}};
  if (!o.succeeded) return {{3, "Observed"}, {27, "Error"}};
  if (o.prevented || o.action == policy::Action::kKillProcess)
    return {{2, "Denied"}, {2, "Blocked"}};
  return {{2, "Denied"}, {21, "Reset"}};
}

// "kill_connection", or "would_kill_connection" in audit mode.
std::string action_event_name(const policy::ActionOutcome& o) {
  std::string name(policy::action_name(o.action));
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return o.audit ? "would_" + name : name;
}

// data_security.category_id from what was detected: credentials are Security, personal data
// Personal; a finding with both is Security. Custom patterns and bulk data are Other, named.
Enumerated data_category(const std::vector<Evidence>& evidence) {
  bool personal = false;
  const Evidence* other = nullptr;
  for (const Evidence& e : evidence) {
    switch (e.detection.category) {
      case policy::DetectorCategory::kSecret:
        return {6, "Security"};
      case policy::DetectorCategory::kPersonalData:
        personal = true;
        break;
      default:
        if (other == nullptr) other = &e;
        break;
    }
  }
  if (personal) return {1, "Personal"};
  if (other != nullptr) return {99, policy::category_name(other->detection.category)};
  return {0, "Unknown"};  // an update: its evidence was reported with the finding it counts
}

std::string_view source_name(policy::EvidenceSource source) {
  return source == policy::EvidenceSource::kResponse ? "response" : "request";
}

void write_classification(JsonWriter& w, const Finding& f) {
  const Enumerated cls = finding_class(f);
  const Enumerated activity = finding_activity(f);
  w.number("class_uid", cls.id);
  w.string("class_name", cls.name);
  w.number("category_uid", kCategoryUid);
  w.string("category_name", "Findings");
  w.number("activity_id", activity.id);
  w.string("activity_name", activity.name);
  w.number("type_uid", cls.id * 100 + activity.id);
  w.string_parts("type_name", {cls.name, ": ", activity.name});
  w.number("severity_id", static_cast<uint64_t>(f.severity));
  w.string("severity", severity_caption(f.severity));
  w.number("confidence_id", static_cast<uint64_t>(f.confidence));
  w.string("confidence", confidence_caption(f.confidence));
  w.number("status_id", 1);  // New: nobody has looked at it yet
  w.string("status", "New");
  w.string_if("message", f.title);
  w.number("time", f.time_realtime_ns / kNsPerMs);
  w.number("count", f.count);
  w.boolean("is_alert", true);
  const ControlOutcome outcome = control_outcome(f);
  w.number("action_id", outcome.action.id);
  w.string("action", outcome.action.name);
  w.number("disposition_id", outcome.disposition.id);
  w.string("disposition", outcome.disposition.name);
}

void write_metadata(JsonWriter& w, const Finding& f, const OcsfContext& context) {
  ocsf::begin_metadata(w, context);
  // Unique per event: an update gets its own, the finding it updates keeps finding_info.uid.
  if (f.update) {
    w.string_parts("uid", {f.uid, "-u", Decimal(f.count).view()});
  } else {
    w.string("uid", f.uid);
  }
  w.string("log_name", "finding");
  w.begin_array("profiles");
  w.element("host");
  w.element("security_control");
  ocsf::add_container_profile(w, f.call.process);
  w.end_array();
  w.end_object();
}

void write_finding_info(JsonWriter& w, const Finding& f, const OcsfContext& context) {
  const llm::LlmCall& call = f.call;
  w.begin_object("finding_info");
  w.string("uid", f.uid);
  w.string_if("title", f.title);
  w.string_if("desc", f.rule_description);
  w.begin_array("types");
  w.element(policy::finding_kind_name(f.kind));
  w.end_array();
  w.begin_object("analytic");
  w.string("name", f.rule_id);
  w.number("type_id", 1);
  w.string("type", "Rule");
  w.string("uid", f.rule_id);
  w.end_object();
  // The finding was created with its call; an update is later, and says when.
  if (!f.update) {
    w.number("created_time", f.time_realtime_ns / kNsPerMs);
  } else {
    if (call.start_realtime_ns != 0) w.number("created_time", call.start_realtime_ns / kNsPerMs);
    w.number("modified_time", f.time_realtime_ns / kNsPerMs);
  }
  // The call's own event (HTTP Activity, `llm` log), as the same agent run wrote it.
  const HttpActivity activity = http_activity_of(call.method);
  w.begin_array("related_events");
  w.begin_object();
  ocsf::write_call_event_uid(w, "uid", context, call.sequence);
  w.number("type_uid", kHttpActivityClassUid * 100 + activity.id);
  w.string_parts("type_name", {"HTTP Activity: ", activity.name});
  w.number("severity_id", 1);  // a call is an observation: always Informational
  w.string("severity", "Informational");
  w.end_object();
  w.end_array();
  w.end_object();
}

// Where a detection was and what it looked like: never the value itself.
void write_detection_members(JsonWriter& w, const Evidence& e) {
  const policy::Detection& d = e.detection;
  w.string("detector_id", d.detector_id);
  w.string("category", policy::category_name(d.category));
  w.string("source", source_name(e.source));
  w.number("offset", d.offset);
  w.number("length", d.length);
  w.string_if("redacted", d.redacted);
  w.string_if("fingerprint", d.fingerprint);
}

// What a finding without detections is about: the model, or the volume counted.
void write_call_evidence_data(JsonWriter& w, const Finding& f) {
  const llm::LlmCall& call = f.call;
  if (f.kind == FindingKind::kVolume) {
    w.begin_object("data");
    w.string_if("key", f.volume_key);
    w.number("tokens", f.volume_tokens);
    w.number("bytes", f.volume_bytes);
    w.number("window_seconds", f.volume_window_seconds);
    w.end_object();
    return;
  }
  const std::string_view key = ocsf::api_key_fingerprint(call);
  if (call.provider.empty() && call.request_model.empty() && call.response_model.empty() &&
      key.empty()) {
    return;
  }
  w.begin_object("data");
  w.string_if("provider", call.provider);
  w.string_if("request_model", call.request_model);
  w.string_if("response_model", call.response_model);
  w.string_if("api_key_fingerprint", key);
  w.end_object();
}

// The artefacts every evidence of the call shares: who sent it, to where, on which connection.
void write_call_artefacts(JsonWriter& w, const llm::LlmCall& call) {
  ocsf::write_process(w, "process", call.process);
  ocsf::write_dst_endpoint(w, call);
  ocsf::write_connection_info(w, call);
}

// Detection Finding: one evidence a detection, else one for the call.
void write_evidences(JsonWriter& w, const Finding& f) {
  w.begin_array("evidences");
  if (f.evidence.empty()) {
    w.begin_object();
    write_call_evidence_data(w, f);
    write_call_artefacts(w, f.call);
    w.end_object();
  }
  for (const Evidence& e : f.evidence) {
    w.begin_object();
    w.begin_object("data");
    write_detection_members(w, e);
    w.end_object();
    write_call_artefacts(w, f.call);
    w.end_object();
  }
  w.end_array();
}

// Data Security Finding: what was found where, by which detectors, under which rule.
void write_data_security(JsonWriter& w, const Finding& f) {
  const Enumerated category = data_category(f.evidence);
  w.begin_object("data_security");
  w.number("category_id", category.id);
  w.string("category", category.name);
  w.number("data_lifecycle_state_id", 2);
  w.string("data_lifecycle_state", "Data in-Transit");
  // The detectors that matched, each once, in the order they did.
  std::string pattern;
  std::vector<std::string_view> seen;
  for (const Evidence& e : f.evidence) {
    const std::string_view id = e.detection.detector_id;
    bool known = false;
    for (const std::string_view s : seen) known = known || s == id;
    if (known || id.empty()) continue;
    seen.push_back(id);
    if (!pattern.empty()) pattern.push_back(',');
    pattern.append(id);
  }
  w.string_if("detection_pattern", pattern);
  w.number("detection_system_id", 1);  // Endpoint: llmtap runs on the host that sent the data
  w.string("detection_system", "Endpoint");
  if (!f.evidence.empty()) {
    w.begin_array("discovery_details");
    for (const Evidence& e : f.evidence) {
      w.begin_object();
      w.string("type", e.detection.detector_id);
      w.number("count", 1);
      w.string_if("value", e.detection.redacted);
      w.end_object();
    }
    w.end_array();
  }
  w.begin_object("policy");
  w.string("uid", f.rule_id);
  w.string("name", f.rule_id);
  w.string_if("desc", f.rule_description);
  w.end_object();
  w.end_object();
}

// llmtap's own fields that OCSF has no attribute for (or that a SIEM should find in the same
// place in both classes).
void write_unmapped(JsonWriter& w, const Finding& f) {
  const llm::LlmCall& call = f.call;
  w.begin_object("unmapped");
  w.begin_object("llmtap");
  if (call.process.workload) ocsf::write_pod(w, *call.process.workload);
  w.string("rule_id", f.rule_id);
  w.string("kind", policy::finding_kind_name(f.kind));
  w.string_if("reason", f.reason);
  w.string("requested_action", policy::action_name(f.action));
  if (f.outcome) {
    const policy::ActionOutcome& o = *f.outcome;
    w.begin_object("action");
    w.string("name", action_event_name(o));
    w.string("mode", o.audit ? "audit" : "enforce");
    w.string_if("target", o.target);
    w.boolean("attempted", o.attempted);
    w.boolean("succeeded", o.succeeded);
    w.boolean("prevented", o.prevented);
    w.string_if("error", o.error);
    if (o.capture_to_action_ns != 0)
      w.number("capture_to_action_us", o.capture_to_action_ns / 1000);
    if (o.time_realtime_ns != 0) w.number("time", o.time_realtime_ns / kNsPerMs);
    w.end_object();
  }
  w.string_if("provider", call.provider);
  w.string_if("request_model", call.request_model);
  w.string_if("response_model", call.response_model);
  w.string_if("api_key_fingerprint", ocsf::api_key_fingerprint(call));
  w.number("count", f.count);
  if (call.conn_id != 0) w.number("conn_id", call.conn_id);
  if (f.kind == FindingKind::kVolume) {
    w.begin_object("volume");
    w.string_if("key", f.volume_key);
    w.number("tokens", f.volume_tokens);
    w.number("bytes", f.volume_bytes);
    w.number("window_seconds", f.volume_window_seconds);
    w.end_object();
  }
  // Data Security Finding has no evidences: the detections in full are here.
  if (is_data_security(f) && !f.evidence.empty()) {
    w.begin_array("detections");
    for (const Evidence& e : f.evidence) {
      w.begin_object();
      write_detection_members(w, e);
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
  w.end_object();
}

}  // namespace

void append_ocsf_finding(const Finding& f, const OcsfContext& context, std::string& out) {
  JsonWriter w(out);
  w.begin_object();
  write_classification(w, f);
  write_metadata(w, f, context);
  write_finding_info(w, f, context);
  ocsf::write_actor(w, f.call.process);
  // A device needs a name (or an address) to be one; without a hostname there is none to write.
  if (!context.hostname.empty()) ocsf::write_device(w, context);
  if (is_data_security(f)) {
    ocsf::write_src_endpoint(w, f.call);
    ocsf::write_dst_endpoint(w, f.call);
    write_data_security(w, f);
  } else {
    write_evidences(w, f);
  }
  write_unmapped(w, f);
  w.end_object();
  w.finish();
  out.push_back('\n');
}

}  // namespace llmtap::sink
