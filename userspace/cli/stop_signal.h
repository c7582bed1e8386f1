#pragma once
// SIGINT/SIGTERM (stop) and SIGHUP (reload) as flags the main loop polls (the handler only
// stores).

namespace llmtap::cli {

void install_stop_signal_handlers();
bool stop_requested();
// SIGHUP since the last call (reload the policy).
bool take_reload_request();

}  // namespace llmtap::cli
