#pragma once
// Small, allocation-free JSON text helpers for the event writers' hot path.

#include <string>
#include <string_view>
#include <vector>

namespace llmtap::sink {

// Appends `text` as a JSON string literal (with quotes). Invalid UTF-8 becomes U+FFFD, so
// the output is always valid JSON whatever bytes a process name or header carries.
void append_json_string(std::string& out, std::string_view text);

// Appends `text` escaped as above but without the quotes, so a string can be built from parts.
void append_json_escaped(std::string& out, std::string_view text);

// Appends the standard base64 encoding of `bytes` (no quotes, with padding): 24 bytes at a
// time with AVX2 where the CPU has it, else three at a time from a table.
void append_base64(std::string& out, std::string_view bytes);

// The ways of encoding, chosen at run time by what the CPU has; tests run each against the
// others.
enum class Base64Kernel { kScalar, kAvx2 };
std::vector<Base64Kernel> base64_kernels();  // this CPU's, slowest first
void append_base64(std::string& out, std::string_view bytes, Base64Kernel kernel);

}  // namespace llmtap::sink
