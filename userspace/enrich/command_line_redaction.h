#pragma once
// Command lines carry credentials often enough (`--api-key sk-...`) that they are redacted
// before they reach any output: the value of a secret-named flag, and anything shaped like a
// provider key.

#include <string>
#include <vector>

namespace llmtap::enrich {

// argv joined with spaces, credentials replaced by "[REDACTED]".
std::string redact_command_line(const std::vector<std::string>& argv);

}  // namespace llmtap::enrich
