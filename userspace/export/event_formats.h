#pragma once
// llmtap's events for SIEMs that do not read OCSF: an Elastic Common Schema document and an
// ArcSight CEF line, both made from the OCSF event llmtap writes (HTTP Activity 4002, Detection
// Finding 2004, Data Security Finding 2006; docs/events.md). Made from the OCSF JSON rather
// than from the stage structs so that a sink's field filters (drop, hash) apply to every
// format alike.
//
// Both read only what is there: a member that is missing or of another type than llmtap writes
// is left out (never null, never an exception), so an event a filter edited still converts.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace llmtap::exporter {

// The ECS release the documents follow. gen_ai.* are the OpenTelemetry GenAI names, which
// ECS took as they are (beta, ECS 9.1); an 8.x index maps them dynamically.
inline constexpr std::string_view kEcsVersion = "8.17.0";

// An ECS document (nested objects) for one OCSF event:
//   calls    event.kind event, category [network, web], type [access, protocol],
//            dataset llmtap.llm; url/http/user_agent/source/destination/network; gen_ai.*
//   findings event.kind alert, category [intrusion_detection], type [info|denied|allowed],
//            dataset llmtap.finding; message, rule.*, threat.* (prompt attacks)
//   both     @timestamp, event.{id,severity,action,outcome,module}, host, process, user.id,
//            container, orchestrator, kubernetes (as Elastic's Kubernetes metadata writes
//            it), and llmtap.* (OCSF unmapped.llmtap and what ECS has no field for).
// Prompt and completion text, only present when llmtap's content switch is on, go to
// llmtap.prompt_text / llmtap.response_text: ECS's gen_ai.input/output.messages want
// structured messages, not the text llmtap keeps.
nlohmann::json ocsf_to_ecs(const nlohmann::json& ocsf);

// One CEF:0 line (ArcSight CEF rev 25/26), no line end (the syslog layer frames it):
//   CEF:0|llmtap|llmtap|<version>|<llm-call or rule id>|<LLM API call or title>|<severity>|ext
// Severity from OCSF severity_id: 1 Informational -> 1, 2 Low -> 3, 3 Medium -> 5,
// 4 High -> 7, 5 Critical -> 9, 6 Fatal -> 10, anything else -> 0.
std::string ocsf_to_cef(const nlohmann::json& ocsf);

}  // namespace llmtap::exporter
