#pragma once
// `llmtap daemon`: every LLM API call on the host as one OCSF HTTP Activity JSON line on
// stdout.

#include "cli/llm_session.h"

namespace llmtap::cli {

int run_daemon(const LlmSessionOptions& options);

}  // namespace llmtap::cli
