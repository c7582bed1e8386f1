#pragma once
// The `llm` event for SIEMs: one LLM API call as an OCSF HTTP Activity event (class 4002) with
// the `ai_operation` profile. Field choices and their sources are in docs/events.md.

#include <cstdint>
#include <string>
#include <string_view>

#include "llm/llm_call.h"
#include "sink/ocsf_objects.h"

namespace llmtap::sink {

inline constexpr uint64_t kHttpActivityClassUid = 4002;

// HTTP Activity's activity for a request method: findings name the call's event by its
// type_uid (kHttpActivityClassUid * 100 + id) and type_name ("HTTP Activity: <name>").
struct HttpActivity {
  uint64_t id;
  std::string_view name;
};
HttpActivity http_activity_of(std::string_view method);

// Appends the event for `call` and a newline to `out`. Absent values are left out, never null.
void append_ocsf_http_activity(const llm::LlmCall& call, const OcsfContext& context,
                               std::string& out);

}  // namespace llmtap::sink
