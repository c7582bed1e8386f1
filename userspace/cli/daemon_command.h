#pragma once
// `llmtap daemon`: every LLM API call on the host, and every finding, as OCSF events: on stdout
// (JSON lines, the Kubernetes default) and to the configured sinks (files, syslog, Splunk HEC,
// Elastic, webhooks), each delivered on its own thread with a disk spool.

#include "cli/export_options.h"
#include "cli/llm_session.h"

namespace llmtap::cli {

struct DaemonOptions {
  LlmSessionOptions session;
  ExportFlags exports;
};

int run_daemon(const DaemonOptions& options);

}  // namespace llmtap::cli
