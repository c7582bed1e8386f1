#pragma once
// `llmtap audit`: one command, one report. Takes the host's inventory (TLS stacks llmtap sees
// into and those it cannot, provider keys in environments, local model servers, model files),
// watches every LLM call for a window with the policy, and writes the report (docs/audit.md)
// as a table, JSON or markdown, and as an HTML page. Exit status: 0 clean, 1 findings at or
// above --fail-on, 2 could not run.

#include <optional>
#include <string>
#include <vector>

#include "cli/llm_session.h"
#include "policy/severity.h"

namespace llmtap::cli {

struct AuditOptions {
  LlmSessionOptions session;  // duration_seconds: the window (60 by default)
  std::string format = "table";  // table, json, markdown
  std::string output_file;       // "" : stdout
  std::string html_file;         // "" : none
  std::optional<policy::Severity> fail_on = policy::Severity::kHigh;  // nullopt: never
  std::vector<std::string> model_roots;  // where model files are looked for
  bool progress = false;                 // a progress line on stderr (a terminal)
};

// The roots searched for model files when none is given.
const std::vector<std::string>& default_model_roots();

int run_audit(const AuditOptions& options);

}  // namespace llmtap::cli
