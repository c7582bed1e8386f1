#pragma once
// `llmtap trace`: every captured TLS call as one JSON line on stdout.

#include <cstdint>
#include <string>
#include <vector>

namespace llmtap::cli {

struct TraceOptions {
  uint32_t pid = 0;
  std::string comm;
  std::string cgroup;
  std::vector<std::string> libs;
  bool scan_processes = true;       // find TLS users among running and new processes
  bool hold_while_attaching = true;
  double duration_seconds = 0;  // 0: until SIGINT/SIGTERM
  uint32_t max_bytes = 0;
  uint32_t ring_buffer_bytes = 0;
};

// Runs until stopped; returns the process exit status. Throws on setup failure.
int run_trace(const TraceOptions& options);

}  // namespace llmtap::cli
