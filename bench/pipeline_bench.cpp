// LLM records per second that the pipeline after capture (HTTP framing, decoding, catalog,
// extraction, record building, OCSF JSON) sustains on one core, from a replayed capture: the
// corpus exchanges cut into TLS calls as a client's SSL_write/SSL_read would deliver them.
// Also the heap held per open connection with a request in flight. Prints figures; asserts
// nothing.
//
//   pipeline_bench [--calls N] [--connections C]
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "capture/tls_call.h"
#include "corpus_wire.h"
#include "enrich/process_identity_cache.h"
#include "llm/catalog/provider_catalog.h"
#include "pipeline/traffic_pipeline.h"
#include "sink/ocsf_http_activity.h"

namespace {

using llmtap::capture::Direction;
using llmtap::capture::TlsCall;
using Clock = std::chrono::steady_clock;

struct Options {
  uint64_t calls = 200000;
  uint64_t connections = 10000;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--calls") o.calls = std::stoull(argv[i + 1]);
    if (flag == "--connections") o.connections = std::stoull(argv[i + 1]);
  }
  return o;
}

// One exchange as the TLS calls a client makes: writes of at most 16 KiB, reads of at most
// 16 KiB (what one TLS record carries).
struct ReplayedExchange {
  std::vector<std::pair<Direction, std::string>> calls;
  std::string name;
};

std::vector<ReplayedExchange> load_exchanges() {
  std::vector<ReplayedExchange> out;
  for (const auto& file : llmtap::testing::corpus_case_files(LLMTAP_CORPUS_DIR)) {
    const auto c = llmtap::testing::load_corpus_case(file);
    ReplayedExchange e;
    e.name = c.name;
    for (size_t at = 0; at < c.request_bytes.size(); at += 16384) {
      e.calls.emplace_back(Direction::kWrite, c.request_bytes.substr(at, 16384));
    }
    for (size_t at = 0; at < c.response_bytes.size(); at += 16384) {
      e.calls.emplace_back(Direction::kRead, c.response_bytes.substr(at, 16384));
    }
    out.push_back(std::move(e));
  }
  return out;
}

TlsCall call_on(uint32_t conn, Direction direction, const std::string& bytes, uint64_t now) {
  TlsCall call;
  call.pid = 1000 + conn % 50;
  call.tid = call.pid;
  call.ssl = 0x10000 + conn;
  call.conn_id = conn + 1;
  call.mono_ns = now;
  call.direction = direction;
  call.call_len = static_cast<uint32_t>(bytes.size());
  call.data = bytes;
  call.comm = "bench";
  call.lib = llmtap::capture::TlsLib::kOpenSsl;
  call.remote.family = 2;
  call.remote.port = 443;
  return call;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const auto exchanges = load_exchanges();
  if (exchanges.empty()) {
    std::fprintf(stderr, "no corpus cases under %s\n", LLMTAP_CORPUS_DIR);
    return 1;
  }
  const auto catalog = llmtap::llm::ProviderCatalog::builtin();
  llmtap::enrich::ProcessIdentityCache processes("/nonexistent");
  std::string out;
  uint64_t records = 0;
  uint64_t out_bytes = 0;
  llmtap::sink::OcsfContext context{"bench", "bench-host", "0123456789abcdef"};
  llmtap::pipeline::TrafficPipeline pipeline(
      catalog, {}, processes, [](uint64_t ns) { return ns; },
      [&](const llmtap::llm::LlmCall& call, const llmtap::llm::CallBodies&) {
        llmtap::sink::append_ocsf_http_activity(call, context, out);
        ++records;
        out_bytes += out.size();
        out.clear();
      });

  // Throughput: exchanges round-robin over 64 keep-alive connections.
  uint64_t input_bytes = 0;
  uint64_t now = 1;
  const auto start = Clock::now();
  for (uint64_t i = 0; i < options.calls; ++i) {
    const ReplayedExchange& e = exchanges[i % exchanges.size()];
    const uint32_t conn = static_cast<uint32_t>(i % 64);
    for (const auto& [direction, bytes] : e.calls) {
      pipeline.on_tls_call(call_on(conn, direction, bytes, now += 1000));
      input_bytes += bytes.size();
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("corpus exchanges: %zu kinds\n", exchanges.size());
  std::printf(
      "records: %llu in %.2f s = %.0f records/s on one core (%.1f MB/s of plaintext, "
      "%.0f bytes of OCSF JSON per record)\n",
      static_cast<unsigned long long>(records), seconds, records / seconds,
      input_bytes / seconds / 1e6, records ? double(out_bytes) / records : 0.0);

  // Memory: open connections, each with a request sent and half its response read.
  const size_t heap_before = mallinfo2().uordblks;
  const ReplayedExchange& e = exchanges.front();
  for (uint64_t c = 0; c < options.connections; ++c) {
    const uint32_t conn = static_cast<uint32_t>(100000 + c);
    for (const auto& [direction, bytes] : e.calls) {
      if (direction == Direction::kWrite) {
        pipeline.on_tls_call(call_on(conn, direction, bytes, now += 1000));
      } else {
        const std::string half = bytes.substr(0, bytes.size() / 2);
        pipeline.on_tls_call(call_on(conn, direction, half, now += 1000));
        break;
      }
    }
  }
  const size_t heap_after = mallinfo2().uordblks;
  std::printf(
      "open connections: %zu; heap per connection with an exchange in flight "
      "(request %zu bytes): %.0f bytes\n",
      pipeline.open_connections(), e.calls.empty() ? 0 : e.calls.front().second.size(),
      double(heap_after - heap_before) / double(options.connections));
  return 0;
}
