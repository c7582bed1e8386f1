#pragma once
// One event leaving the pipeline for the sinks: its OCSF JSON line (made once, on the pipeline
// thread) with the few facts sinks route and filter on without parsing it. Shared, never
// changed: every sink reads the same one.

#include <cstdint>
#include <memory>
#include <string>

namespace llmtap::exporter {

enum class EventKind : uint8_t { kLlmCall, kFinding };

struct ExportEvent {
  std::string json;  // one OCSF event, no trailing newline
  EventKind kind = EventKind::kLlmCall;
  uint8_t severity_id = 1;  // OCSF: 1 Informational (calls) .. 6 Fatal
  uint64_t time_ms = 0;
};

using SharedEvent = std::shared_ptr<const ExportEvent>;

}  // namespace llmtap::exporter
