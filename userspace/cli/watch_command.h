#pragma once
// `llmtap watch`: the human view. One line per LLM call, and a summary by provider and model
// every --summary-interval seconds and at exit.

#include "cli/llm_session.h"
#include "cli/stdout_lines.h"

namespace llmtap::cli {

struct WatchOptions {
  LlmSessionOptions session;
  double summary_interval_seconds = 60;
  bool color = false;
  size_t stdout_backlog_bytes = kDefaultStdoutBacklogBytes;
};

int run_watch(const WatchOptions& options);

}  // namespace llmtap::cli
