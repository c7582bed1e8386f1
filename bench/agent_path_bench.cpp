// The daemon's userspace work per LLM call, in one process and without the capture: both ends
// of a call on this host (client write and read, server read and write, as TLS calls) through
// the pipeline (HTTP, catalog, extraction, enrichment, price), the policy engine (the built-in
// pack), the agent's metrics and the OCSF line, as `llmtap daemon` runs them. The bodies are
// shaped as bench/agent_cpu_bench's (64 different requests and answers, used in turn). Prints
// the time per call; run it under callgrind for a count that does not move with the machine's
// load (docs/benchmarks.md):
//
//   agent_path_bench [CALLS] [--one-end]
//   valgrind --tool=callgrind agent_path_bench 1500   (minus the same with 500, over 1000)
//
// --one-end: only the client's end is on the host (a remote provider, the usual case): two
// TLS calls and one record per call.
//
// Valgrind cannot run it while an llmtap on the host has probes in ld.so (their breakpoints
// reach the program under valgrind as SIGTRAP): run it with no llmtap running. Asserts nothing.
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

#include "capture/tls_call.h"
#include "llm_call_bodies.h"
#include "cli/agent_metrics.h"
#include "enrich/process_identity_cache.h"
#include "llm/catalog/provider_catalog.h"
#include "llm/price_table.h"
#include "metrics/metric_registry.h"
#include "pipeline/traffic_pipeline.h"
#include "policy/compiled_policy.h"
#include "policy/policy_engine.h"
#include "policy/policy_loader.h"
#include "sink/ocsf_http_activity.h"

namespace {

using namespace llmtap;

constexpr size_t kBodies = 64;

std::string request_bytes(uint64_t n) {
  const std::string body = bench::openai_request_body(1024, n);
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
         "User-Agent: OpenAI/Python 1.54.0\r\nAccept: application/json\r\n"
         "Authorization: Bearer sk-proj-benchbenchbenchbenchbenchbenchbench0000\r\n"
         "Content-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string response_bytes(uint64_t n) {
  const std::string body = bench::chat_completion_body(1024, n);
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: keep-alive\r\n\r\n" + body;
}

// One TLS call of the client's connection (port 40000) or the server's (port 8443).
capture::TlsCall tls_call(bool client, capture::Direction direction, const std::string& data,
                          uint64_t now) {
  capture::TlsCall c;
  c.pid = static_cast<uint32_t>(getpid());
  c.tid = c.pid;
  c.ssl = client ? 0x1000 : 0x2000;
  c.conn_id = client ? 1 : 2;
  c.mono_ns = now;
  c.entry_mono_ns = now;
  c.direction = direction;
  c.call_len = static_cast<uint32_t>(data.size());
  c.data = data;
  c.comm = "llmtap-cpubench";
  c.lib = capture::TlsLib::kOpenSsl;
  c.local.family = AF_INET;
  c.remote.family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", c.local.addr.data());
  inet_pton(AF_INET, "127.0.0.1", c.remote.addr.data());
  c.local.port = client ? 40000 : 8443;
  c.remote.port = client ? 8443 : 40000;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 2000;
  const bool one_end = argc > 2 && std::string(argv[2]) == "--one-end";
  std::vector<std::string> requests;
  std::vector<std::string> responses;
  for (uint64_t n = 0; n < kBodies; ++n) {
    requests.push_back(request_bytes(n));
    responses.push_back(response_bytes(n));
  }

  const auto catalog = llm::ProviderCatalog::builtin();
  const auto prices = llm::PriceTable::builtin();
  std::vector<policy::PolicyProblem> problems;
  policy::PolicyEngine engine(policy::compile_policy(policy::builtin_policy(), {}, problems));
  metrics::MetricRegistry registry;
  cli::AgentMetrics agent_metrics(registry);
  enrich::ProcessIdentityCache processes;
  const sink::OcsfContext context{"0.1.0", "bench-host", "0123456789abcdef"};
  std::string out;  // the daemon's stdout buffer (flushed every poll there; cleared here)
  uint64_t records = 0;
  pipeline::PipelineOptions options;
  options.prices = &prices;
  pipeline::TrafficPipeline pipeline(
      catalog, options, processes, [](uint64_t ns) { return ns + 1700000000000000000ull; },
      [&](const llm::LlmCall& call, const llm::CallBodies& bodies) {
        const auto findings = engine.judge(call, bodies.request, bodies.response);
        agent_metrics.on_call(call);
        sink::append_ocsf_http_activity(call, context, out);
        if (out.size() > (size_t{1} << 20)) out.clear();
        ++records;
        if (!findings.empty()) std::fprintf(stderr, "finding %s\n", findings[0].rule_id.c_str());
      });

  uint64_t now = 1000;
  uint64_t n = 0;
  auto one_call = [&] {
    const std::string& request = requests[n % kBodies];
    const std::string& response = responses[n % kBodies];
    ++n;
    using capture::Direction;
    pipeline.on_tls_call(tls_call(true, Direction::kWrite, request, now += 1000));
    if (!one_end) pipeline.on_tls_call(tls_call(false, Direction::kRead, request, now += 1000));
    if (!one_end) pipeline.on_tls_call(tls_call(false, Direction::kWrite, response, now += 1000));
    pipeline.on_tls_call(tls_call(true, Direction::kRead, response, now += 1000));
  };
  for (int i = 0; i < 50; ++i) one_call();  // warm: connections, caches, series
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) one_call();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(one_end ? "%llu records; %.2f us per call (one end, one record)\n"
                      : "%llu records; %.2f us per call (both ends, two records)\n",
              static_cast<unsigned long long>(records), seconds * 1e6 / calls);
  return 0;
}
