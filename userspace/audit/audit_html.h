#pragma once
// The audit report (the JSON document of docs/audit.md) as one self-contained HTML page: a
// header with the verdict, summary cards, SVG charts (calls and tokens over the window by
// provider and model, findings by severity), then the calls, findings and inventory tables.
// Nothing is loaded from anywhere (its Content-Security-Policy forbids it) and no script runs;
// every string from the host is escaped. Missing or null fields show as "—".

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace llmtap::audit {

std::string render_audit_html(const nlohmann::json& report);

// Text made safe for HTML content and quoted attribute values: & < > " ' become entities,
// control characters and invalid UTF-8 become U+FFFD.
std::string html_escape(std::string_view text);

}  // namespace llmtap::audit
