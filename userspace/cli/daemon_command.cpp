#include "cli/daemon_command.h"

#include "cli/agent_identity.h"
#include "cli/stdout_lines.h"
#include "sink/ocsf_http_activity.h"

namespace llmtap::cli {

int run_daemon(const LlmSessionOptions& options) {
  StdoutLines out;
  const sink::OcsfContext context = ocsf_context();
  LlmSessionHandlers handlers;
  handlers.on_call = [&](const llm::LlmCall& call) {
    sink::append_ocsf_http_activity(call, context, out.buffer());
  };
  handlers.after_poll = [&](uint64_t) { return out.flush(); };
  handlers.at_end = [&](uint64_t) { return out.flush(); };
  return run_llm_session(options, handlers);
}

}  // namespace llmtap::cli
