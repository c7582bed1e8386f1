#pragma once
// `llmtap daemon`: every LLM API call on the host, and every finding, as OCSF events: on stdout
// (JSON lines, the Kubernetes default) and to the configured sinks (files, syslog, Splunk HEC,
// Elastic, webhooks), each delivered on its own thread with a disk spool.

#include "cli/export_options.h"
#include "cli/llm_session.h"
#include "cli/stdout_lines.h"

namespace llmtap::cli {

struct DaemonOptions {
  LlmSessionOptions session;
  ExportFlags exports;
  size_t stdout_backlog_bytes = kDefaultStdoutBacklogBytes;
};

int run_daemon(const DaemonOptions& options);

}  // namespace llmtap::cli
