#pragma once
// The audit report (the JSON document of docs/audit.md) as text: a terminal table, or
// markdown. Both come from the same sections, so they say the same things. Every string from
// the host is made safe for its form (control characters never reach a terminal; `|` and
// newlines never break a markdown table).

#include <nlohmann/json.hpp>
#include <string>

namespace llmtap::audit {

std::string render_audit_table(const nlohmann::json& report);
std::string render_audit_markdown(const nlohmann::json& report);

// People's numbers: "12,345", "$0.0042", "1.5 MiB".
std::string thousands(uint64_t n);
std::string dollars(double usd);
std::string human_bytes(uint64_t bytes);

}  // namespace llmtap::audit
