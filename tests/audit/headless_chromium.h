#pragma once
// Debian's chromium in headless mode for the HTML report's test: each run bounded in time, in
// its own process group with its own profile, and every process of it gone when the run
// returns (stragglers are named and killed).

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::audit::test {

struct ChromiumRun {
  bool started = false;
  bool timed_out = false;
  int exit_status = -1;  // the browser's, when it exited by itself
  double seconds = 0;
  std::string out;    // its stdout (--dump-dom writes the DOM there)
  std::string log;    // its stderr (--enable-logging=stderr)
  std::string error;  // why it could not start
  // Its processes still alive seconds after the browser exited ("pid command line"), since
  // killed.
  std::vector<std::string> leftovers;
};

// The chromium executable ($LLMTAP_CHROMIUM, else chromium or chromium-browser on PATH); empty
// when there is none.
std::string find_chromium();

// Opens `url` with `args` added to the headless flags (no sandbox: tests run as root; no GPU;
// a fresh profile under `work_dir`), killing it after `limit`.
ChromiumRun run_headless_chromium(const std::string& binary, const std::string& url,
                                  const std::vector<std::string>& args,
                                  const std::filesystem::path& work_dir,
                                  std::chrono::seconds limit);

// The web console's messages in a chromium log (its CONSOLE logger: console.*, uncaught
// exceptions, Content-Security-Policy violations); chromium's own noise (GPU, D-Bus) is not.
std::vector<std::string> console_messages(std::string_view log);

}  // namespace llmtap::audit::test
