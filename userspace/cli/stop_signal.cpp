#include "cli/stop_signal.h"

#include <csignal>

namespace llmtap::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_reload = 0;

void on_stop_signal(int) { g_stop = 1; }
void on_reload_signal(int) { g_reload = 1; }

}  // namespace

void install_stop_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  action.sa_handler = on_reload_signal;
  sigaction(SIGHUP, &action, nullptr);
  // A closed stdout must end the run through a write error, not kill it mid-summary.
  signal(SIGPIPE, SIG_IGN);
}

bool stop_requested() { return g_stop != 0; }

bool take_reload_request() {
  if (g_reload == 0) return false;
  g_reload = 0;
  return true;
}

}  // namespace llmtap::cli
