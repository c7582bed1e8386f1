#pragma once
// Small, allocation-free JSON text helpers for the event writers' hot path.

#include <string>
#include <string_view>

namespace llmtap::sink {

// Appends `text` as a JSON string literal (with quotes). Invalid UTF-8 becomes U+FFFD, so
// the output is always valid JSON whatever bytes a process name or header carries.
void append_json_string(std::string& out, std::string_view text);

// Appends `text` escaped as above but without the quotes, so a string can be built from parts.
void append_json_escaped(std::string& out, std::string_view text);

// Appends the standard base64 encoding of `bytes` (no quotes, with padding).
void append_base64(std::string& out, std::string_view bytes);

}  // namespace llmtap::sink
