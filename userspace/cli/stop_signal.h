#pragma once
// SIGINT/SIGTERM as a flag the main loop polls (the handler only stores).

namespace llmtap::cli {

void install_stop_signal_handlers();
bool stop_requested();

}  // namespace llmtap::cli
