#pragma once
// `llmtap trace`: every captured TLS call as one JSON line on stdout.

#include "cli/capture_session.h"
#include "cli/stdout_lines.h"

namespace llmtap::cli {

struct TraceOptions {
  CaptureSelection capture;
  double duration_seconds = 0;  // 0: until SIGINT/SIGTERM
  size_t stdout_backlog_bytes = 0;  // waits for its reader (stdout_lines.h)
};

// Runs until stopped; returns the process exit status. Throws on setup failure.
int run_trace(const TraceOptions& options);

}  // namespace llmtap::cli
