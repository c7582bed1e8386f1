#pragma once
// Credentials that look like credentials: provider API keys (sk-..., AIza..., AKIA...,
// hf_..., gsk_..., xai-...) and tokens such as GitHub's. Whatever text llmtap writes out that
// came from a process or from traffic (command lines, error messages, prompt text) goes
// through this first; the policy stage adds real detectors later.

#include <string>

namespace llmtap::common {

// Replaces every key-shaped token in `text` with "[REDACTED]".
void redact_credential_shapes(std::string& text);

}  // namespace llmtap::common
