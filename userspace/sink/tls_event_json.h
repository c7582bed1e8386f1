#pragma once
// The `llmtap trace` event: one JSON object per captured TLS call. Its field names are a
// contract that other tools read (docs/events.md).

#include <cstdint>
#include <string>

#include "capture/tls_call.h"
#include "conn/connection_table.h"

namespace llmtap::sink {

// Appends the event for `call` (stamped `time_ns`, wall clock) and a newline to `out`.
void append_tls_event_json(const capture::TlsCall& call, uint64_t time_ns, std::string& out);

// Appends the `tls_close` event: the connection `state` ended for `reason`.
void append_tls_close_json(const conn::ConnectionState& state, capture::CloseReason reason,
                           uint64_t mono_ns, uint64_t time_ns, std::string& out);

}  // namespace llmtap::sink
