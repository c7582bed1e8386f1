// Requests per second of a keep-alive TLS client (1 KiB bodies) without and with
// `llmtap trace` attached: overhead, events/s, lost. Prints figures; asserts nothing.
//
//   trace_overhead_bench [--requests N] [--runs R] [--body BYTES]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "keepalive_tls_client.h"
#include "tls_test_server.h"
#include "trace_session.h"

namespace {

namespace fs = std::filesystem;
using llmtap::e2e::TraceSession;

struct Options {
  uint64_t requests = 5000;
  int runs = 5;
  size_t body = 1024;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--requests") o.requests = std::stoull(argv[i + 1]);
    if (flag == "--runs") o.runs = std::stoi(argv[i + 1]);
    if (flag == "--body") o.body = std::stoul(argv[i + 1]);
  }
  return o;
}

struct ModeResult {
  std::string name;
  double median_rps = 0;
  double events_per_second = 0;
  uint64_t lost_bytes = 0;
  uint64_t calls = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs the client `runs` times, with llmtap trace started with `trace_args` when given.
ModeResult measure(const std::string& name, const Options& o, uint16_t port,
                   const std::optional<std::vector<std::string>>& trace_args) {
  std::vector<double> rps;
  ModeResult result{name};
  double client_seconds = 0;
  for (int run = 0; run < o.runs; ++run) {
    std::optional<TraceSession> trace;
    if (trace_args) trace.emplace(*trace_args);
    const auto r = llmtap::bench::run_keepalive_client("127.0.0.1", port, o.requests, o.body, o.body);
    rps.push_back(static_cast<double>(r.requests) / r.seconds);
    client_seconds += r.seconds;
    if (trace) {
      const auto summary = trace->stop();
      result.calls += summary.at("calls");
      result.lost_bytes += summary.at("lost_bytes");
    }
  }
  result.median_rps = median(rps);
  result.events_per_second = static_cast<double>(result.calls) / client_seconds;
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const fs::path dir = fs::temp_directory_path() / ("llmtap-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  llmtap::testing::write_self_signed_certificate(dir / "cert.pem", dir / "key.pem");
  llmtap::testing::TlsTestServerOptions server_options;
  server_options.cert_file = dir / "cert.pem";
  server_options.key_file = dir / "key.pem";
  llmtap::testing::TlsTestServer server(server_options);

  std::printf("keep-alive TLS client, %llu requests x %zu B body + %zu B response, %d runs each\n",
              static_cast<unsigned long long>(o.requests), o.body, o.body, o.runs);
  // The server runs in this process, so host-wide tracing captures both ends of every call.
  const std::vector<ModeResult> results = {
      measure("no tracing", o, server.port(), std::nullopt),
      measure("llmtap trace --pid (this process)", o, server.port(),
              std::vector<std::string>{"--pid", std::to_string(getpid())}),
      measure("llmtap trace (host-wide)", o, server.port(), std::vector<std::string>{}),
      measure("probes attached, other pid only", o, server.port(),
              std::vector<std::string>{"--pid", "1"}),
  };
  const double base = results.front().median_rps;
  std::printf("%-36s %12s %10s %12s %10s\n", "mode", "req/s", "overhead", "events/s", "lost B");
  for (const auto& r : results) {
    std::printf("%-36s %12.0f %9.1f%% %12.0f %10llu\n", r.name.c_str(), r.median_rps,
                100.0 * (base - r.median_rps) / base, r.events_per_second,
                static_cast<unsigned long long>(r.lost_bytes));
  }
  fs::remove_all(dir);
  return 0;
}
