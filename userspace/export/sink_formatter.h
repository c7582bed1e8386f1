#pragma once
// What one sink makes of an event, on its delivery thread: whether it wants it (severity,
// kind), the fields it drops or hashes (e.g. command lines), and the format it speaks (OCSF,
// ECS, CEF). Syslog framing is the transport's, at send time.

#include <optional>
#include <string>

#include "export/delivery_queue.h"
#include "export/export_event.h"
#include "export/sink_config.h"

namespace llmtap::exporter {

bool wanted_by(const SinkFilter& filter, const ExportEvent& event);

// The event's JSON with the filter's fields dropped or hashed ("sha256:<hex>" of the value's
// text); the input as is when the filter edits nothing.
std::string edit_fields(const std::string& json, const SinkFilter& filter);

// The sink's record for an event; nullopt when the sink does not want it.
std::optional<OutRecord> format_for_sink(const SinkConfig& sink, const ExportEvent& event);

}  // namespace llmtap::exporter
