// llmtap: see every request this host makes to an AI model API, even over TLS.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "capture/capture_error.h"
#include "cli/trace_command.h"
#include "llmtap_abi.h"

namespace {

void setup_logging(int verbosity) {
  auto logger = spdlog::stderr_color_mt("llmtap");
  logger->set_pattern("llmtap %^%l%$: %v");
  logger->set_level(verbosity >= 2   ? spdlog::level::trace
                    : verbosity == 1 ? spdlog::level::debug
                                     : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"llmtap: see and control what this host sends to AI model APIs"};
  app.require_subcommand(1);
  int verbosity = 0;
  app.add_flag("-v,--verbose", verbosity, "More log detail on stderr (-vv for libbpf's log)");

  llmtap::cli::TraceOptions trace;
  auto* trace_cmd =
      app.add_subcommand("trace", "Write every captured TLS read/write as a JSON line on stdout");
  trace_cmd->add_option("--pid", trace.pid, "Only this process (tgid)");
  trace_cmd->add_option("--comm", trace.comm, "Only processes with this command name (15 chars)");
  trace_cmd->add_option("--cgroup", trace.cgroup,
                        "Only processes in this cgroup v2 directory or below it")
      ->check(CLI::ExistingDirectory);
  trace_cmd->add_flag("!--no-discovery", trace.scan_processes,
                      "Probe only the system libraries and --lib files, not what processes map");
  trace_cmd->add_flag("!--no-hold", trace.hold_while_attaching,
                      "Never stop a process that connects while its TLS library is attached");
  trace_cmd->add_option("--lib", trace.libs,
                        "Also probe this library or executable (OpenSSL inside), repeatable")
      ->check(CLI::ExistingFile);
  trace_cmd->add_option("--duration", trace.duration_seconds, "Stop after this many seconds")
      ->check(CLI::NonNegativeNumber);
  trace_cmd->add_option("--max-bytes", trace.max_bytes,
                        "Bytes captured per call before the event says truncated")
      ->default_val(LLMTAP_DEFAULT_MAX_BYTES)
      ->check(CLI::Range(1u, LLMTAP_MAX_BYTES_LIMIT));
  trace_cmd->add_option("--ring-buffer-size", trace.ring_buffer_bytes,
                        "Kernel ring buffer bytes (rounded up to a power of two)")
      ->default_val(LLMTAP_DEFAULT_RINGBUF_BYTES)
      ->check(CLI::Range(4096u, 1u << 30));

  CLI11_PARSE(app, argc, argv);
  setup_logging(verbosity);

  try {
    if (trace_cmd->parsed()) return llmtap::cli::run_trace(trace);
  } catch (const llmtap::capture::CaptureError& e) {
    spdlog::error("{}", e.what());
    return 2;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  return 0;
}
