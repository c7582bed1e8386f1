#pragma once
// The `llmtap trace` event: one JSON object per captured TLS call. Its field names are a
// contract that other tools read (docs/events.md).

#include <cstdint>
#include <string>

#include "capture/tls_call.h"

namespace llmtap::sink {

// Appends the event for `call` (stamped `time_ns`, wall clock) and a newline to `out`.
void append_tls_event_json(const capture::TlsCall& call, uint64_t time_ns, std::string& out);

}  // namespace llmtap::sink
