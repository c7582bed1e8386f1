#pragma once
// The `llm` event for SIEMs: one LLM API call as an OCSF HTTP Activity event (class 4002) with
// the `ai_operation` profile. Field choices and their sources are in docs/events.md.

#include <string>
#include <string_view>

#include "llm/llm_call.h"

namespace llmtap::sink {

// HTTP Activity carries the ai_operation profile from OCSF 1.9.0 on (1.8.0 allowed it only on
// API Activity and Process Activity), so this is the oldest version these events are valid in.
inline constexpr std::string_view kOcsfSchemaVersion = "1.9.0";

// What every event of one agent run shares.
struct OcsfContext {
  std::string product_version;  // llmtap's version
  std::string hostname;         // the host the agent runs on
  std::string uid_prefix;       // random per run: metadata.uid = "<prefix>-<call sequence>"
};

// Appends the event for `call` and a newline to `out`. Absent values are left out, never null.
void append_ocsf_http_activity(const llm::LlmCall& call, const OcsfContext& context,
                               std::string& out);

}  // namespace llmtap::sink
