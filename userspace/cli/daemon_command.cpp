#include "cli/daemon_command.h"

#include "cli/agent_identity.h"
#include "cli/stdout_lines.h"
#include "sink/ocsf_finding.h"
#include "sink/ocsf_http_activity.h"

namespace llmtap::cli {

int run_daemon(const LlmSessionOptions& options) {
  StdoutLines out;
  const sink::OcsfContext context = ocsf_context();
  LlmSessionHandlers handlers;
  handlers.on_call = [&](const llm::LlmCall& call, const std::vector<policy::Finding>& findings) {
    sink::append_ocsf_http_activity(call, context, out.buffer());
    for (const auto& f : findings) sink::append_ocsf_finding(f, context, out.buffer());
  };
  handlers.on_findings = [&](const std::vector<policy::Finding>& findings) {
    for (const auto& f : findings) sink::append_ocsf_finding(f, context, out.buffer());
  };
  handlers.after_poll = [&](uint64_t) { return out.flush(); };
  handlers.at_end = [&](uint64_t) { return out.flush(); };
  LlmSessionOptions session = options;
  session.finding_uid_prefix = context.uid_prefix;
  return run_llm_session(session, handlers);
}

}  // namespace llmtap::cli
