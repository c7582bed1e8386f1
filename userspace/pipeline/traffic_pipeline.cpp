#include "pipeline/traffic_pipeline.h"

#include <limits>
#include <utility>

#include "http/protocol_sniffer.h"
#include "llm/llm_call_builder.h"

namespace llmtap::pipeline {
namespace {

// The first bytes of an HTTP/1.x request ("POST /v1/... HTTP/1.1"): a client's SSL_write
// buffers start at message boundaries, so this is where parsing can pick up again.
bool starts_http1_request(std::string_view bytes) {
  return http::sniff_protocol(bytes) == http::SniffedProtocol::kHttp1Request;
}

}  // namespace

struct TrafficPipeline::Connection {
  Connection(uint32_t pid, uint64_t ssl, const http::HttpConnectionOptions& options)
      : pid(pid), ssl(ssl), http(options) {}
  uint32_t pid;
  uint64_t ssl;
  uint64_t conn_id = 0;
  uint64_t last_use = 0;
  capture::Endpoint local;
  capture::Endpoint remote;
  capture::TlsLib lib = capture::TlsLib::kUnknown;
  uint32_t uid = 0;
  uint64_t cgroup_id = 0;
  uint64_t start_boottime_ns = 0;
  std::string comm;
  // After a gap: calls are skipped until one starts a request, where a fresh parser begins.
  bool resyncing = false;
  bool quieted = false;  // the capture was asked to stop copying this connection's bytes
  // ... until a request an LLM route may match (cleared when one resumes it).
  bool quiet_until_llm_request = false;
  uint64_t filtered_seen = 0;  // the parser's filtered_requests when last looked at
  http::HttpConnectionParser http;
};

TrafficPipeline::TrafficPipeline(const llm::ProviderCatalog& catalog, PipelineOptions options,
                                 enrich::ProcessIdentityCache& processes, RealtimeClock realtime_ns,
                                 CallHandler on_call)
    : catalog_(catalog),
      options_(std::move(options)),
      processes_(processes),
      realtime_ns_(std::move(realtime_ns)),
      on_call_(std::move(on_call)),
      builder_(options_.extract) {
  // Non-LLM requests are dropped at their head: bodies never kept, never decoded.
  options_.http.request_filter = [this](http::HttpMessage& head) { return wanted(head); };
}

TrafficPipeline::~TrafficPipeline() = default;

bool TrafficPipeline::wanted(http::HttpMessage& head) {
  std::optional<llm::CatalogMatch> match =
      catalog_.match(llm::request_authority(head), head.method, head.target, head.headers);
  if (!match) return false;
  head.filter_tag = ++head_tags_;
  HeadMatch& slot = head_matches_[head.filter_tag % kHeadMatches];
  slot.tag = head.filter_tag;
  slot.match = std::move(*match);
  return true;
}

std::optional<llm::CatalogMatch> TrafficPipeline::match_of(const http::HttpMessage& request) {
  // The same head, catalog and headers: the filter's answer is the answer.
  HeadMatch& slot = head_matches_[request.filter_tag % kHeadMatches];
  if (request.filter_tag != 0 && slot.tag == request.filter_tag) {
    slot.tag = 0;
    ++stats_.head_matches_reused;
    return std::move(slot.match);
  }
  return catalog_.match(llm::request_authority(request), request.method, request.target,
                        request.headers);
}

TrafficPipeline::Connection& TrafficPipeline::connection_for(const capture::TlsCall& call) {
  ProcessConnections& connections = by_process_[call.pid];
  auto it = connections.find(call.ssl);
  // A reused SSL* with a new kernel connection id is a new connection.
  if (it != connections.end() && call.conn_id != 0 && it->second->conn_id != 0 &&
      it->second->conn_id != call.conn_id) {
    end_connection(*it->second, call.mono_ns);
    connections.erase(it);
    --connection_count_;
    it = connections.end();
  }
  if (it == connections.end()) {
    if (connection_count_ >= options_.max_connections) evict_least_recent();
    ProcessConnections& fresh = by_process_[call.pid];  // eviction may have rehashed
    it = fresh.emplace(call.ssl, std::make_unique<Connection>(call.pid, call.ssl, options_.http))
             .first;
    ++connection_count_;
    ++stats_.connections_opened;
    // Read /proc now: a short-lived client may be gone by the time its response is parsed.
    processes_.lookup(call.pid, call.uid, call.cgroup_id, call.comm);
  }
  Connection& c = *it->second;
  if (call.conn_id != 0) c.conn_id = call.conn_id;
  if (call.local.family != 0) c.local = call.local;
  if (call.remote.family != 0) c.remote = call.remote;
  c.lib = call.lib;
  c.uid = call.uid;
  c.cgroup_id = call.cgroup_id;
  if (call.start_boottime_ns != 0) c.start_boottime_ns = call.start_boottime_ns;
  if (c.comm != call.comm) c.comm = call.comm;
  c.last_use = ++use_clock_;
  return c;
}

void TrafficPipeline::on_tls_call(const capture::TlsCall& call) {
  ++stats_.tls_calls;
  stats_.tls_bytes += call.call_len;
  Connection& connection = connection_for(call);
  const bool is_write = call.direction == capture::Direction::kWrite;
  if (call.quiet) {
    ++stats_.quiet_calls;
    return;
  }
  scratch_.clear();
  // Copying resumed at a request: whatever the parser was in the middle of was never seen.
  if (call.resumed) {
    ++stats_.resumed_calls;
    connection.quiet_until_llm_request = false;
    connection.resyncing = false;
    closed_http_stats_ += connection.http.stats();
    connection.http = http::HttpConnectionParser(options_.http);
    connection.filtered_seen = 0;
  }
  // A call lost whole before this one: a hole of unknown size, which nothing can skip.
  if (call.gap_before) {
    ++stats_.gaps;
    restart_parsing(connection, call.mono_ns);
  }
  if (connection.resyncing) {
    if (!starts_http1_request(call.data)) {
      ++stats_.resync_dropped_calls;
      emit(connection, scratch_);
      return;
    }
    connection.resyncing = false;
  }
  // A write's bytes leave from its entry on (a large upload may block in SSL_write); a
  // read's bytes are there when it returns.
  const uint64_t data_ns = is_write && call.entry_mono_ns != 0 ? call.entry_mono_ns : call.mono_ns;
  connection.http.on_data(is_write, call.data, data_ns, scratch_);
  // Bytes the capture could not deliver (a call over --max-bytes, or a full ring buffer).
  // Inside an HTTP/1.x body of known length they are skipped and counted. Otherwise the
  // stream cannot be followed across the hole: see restart_parsing.
  if (call.truncated || call.lost_len != 0 || call.data.size() < call.call_len) {
    ++stats_.gaps;
    const uint64_t missing = call.call_len - call.data.size();
    if (!connection.http.on_gap(is_write, missing, call.mono_ns, scratch_)) {
      restart_parsing(connection, call.mono_ns);
    }
  }
  emit(connection, scratch_);
  quiet_if_unparsable(connection);
  quiet_if_not_llm(connection);
}

// An HTTP/1.x request that is no LLM call: the rest of the connection need not be copied
// until a request whose path an LLM route may match (a keep-alive connection to an unknown
// host can still carry one: the kernel looks at each call's request line).
void TrafficPipeline::quiet_if_not_llm(Connection& connection) {
  const uint64_t filtered = connection.http.stats().filtered_requests;
  const bool new_filtered = filtered != connection.filtered_seen;
  connection.filtered_seen = filtered;
  if (!new_filtered || connection.quieted || connection.quiet_until_llm_request ||
      connection.resyncing || !options_.quiet_until_llm_request ||
      connection.http.protocol() != http::HttpConnectionParser::Protocol::kHttp1) {
    return;
  }
  connection.quiet_until_llm_request = true;
  ++stats_.quieted_until_llm_request;
  options_.quiet_until_llm_request(connection.pid, connection.ssl);
}

// A connection that is not HTTP, or whose framing broke, is never parsed again: its bytes
// need not cross into userspace at all.
void TrafficPipeline::quiet_if_unparsable(Connection& connection) {
  if (connection.quieted || connection.resyncing) return;
  const bool unparsable =
      connection.http.protocol() == http::HttpConnectionParser::Protocol::kNotHttp ||
      connection.http.stopped();
  if (!unparsable) return;
  connection.quieted = true;
  ++stats_.quieted_connections;
  if (options_.quiet_connection) options_.quiet_connection(connection.pid, connection.ssl);
}

// What was complete is reported, what was in progress ends as incomplete, and parsing starts
// again at the next request (HTTP/1.x; an HTTP/2 connection cannot resume without its header
// compression state, so it stays ignored).
void TrafficPipeline::restart_parsing(Connection& connection, uint64_t mono_ns) {
  ++stats_.resyncs;
  connection.http.on_close(mono_ns, scratch_);
  // The closed parser ignores (and counts) the rest of an HTTP/2 connection.
  if (connection.http.protocol() == http::HttpConnectionParser::Protocol::kHttp2) return;
  closed_http_stats_ += connection.http.stats();
  connection.http = http::HttpConnectionParser(options_.http);
  connection.resyncing = true;
}

void TrafficPipeline::emit(Connection& connection, std::vector<http::HttpExchange>& exchanges) {
  for (const http::HttpExchange& exchange : exchanges) {
    ++stats_.exchanges;
    const http::HttpMessage& request = exchange.request;
    const std::optional<llm::CatalogMatch> match = match_of(request);
    if (!match) {
      ++stats_.unmatched_exchanges;
      continue;
    }
    llm::LlmCall call = builder_.build(exchange, *match);
    call.sequence = ++sequence_;
    call.start_realtime_ns = realtime_ns_(call.start_mono_ns);
    call.conn_id = connection.conn_id;
    call.local = connection.local;
    call.remote = connection.remote;
    call.tls_lib = connection.lib;
    call.served = !connection.http.requests_are_writes();
    call.process =
        processes_.lookup(connection.pid, connection.uid, connection.cgroup_id, connection.comm);
    call.process.start_boottime_ns = connection.start_boottime_ns;
    if (options_.prices != nullptr) {
      if (const auto cost = options_.prices->cost_of(call, &price_memo_)) call.cost_usd = cost->usd;
    }
    ++stats_.llm_calls;
    on_call_(call, llm::CallBodies{exchange.request.body, exchange.response.body});
  }
  exchanges.clear();
}

void TrafficPipeline::end_connection(Connection& connection, uint64_t mono_ns) {
  scratch_.clear();
  connection.http.on_close(mono_ns, scratch_);
  emit(connection, scratch_);
  closed_http_stats_ += connection.http.stats();
  ++stats_.connections_closed;
  // The kernel's quiet entry must not outlive the connection: a later one of the process may
  // get the same SSL* (malloc reuses it).
  if ((connection.quieted || connection.quiet_until_llm_request) && options_.forget_quiet) {
    options_.forget_quiet(connection.pid, connection.ssl);
  }
}

void TrafficPipeline::on_tls_close(const capture::TlsClose& close) {
  const auto process = by_process_.find(close.pid);
  if (process == by_process_.end()) return;
  const auto it = process->second.find(close.ssl);
  if (it == process->second.end()) return;
  if (close.conn_id != 0 && it->second->conn_id != 0 && close.conn_id != it->second->conn_id) {
    return;  // a close of an older connection that used the same SSL*
  }
  end_connection(*it->second, close.mono_ns);
  process->second.erase(it);
  --connection_count_;
  if (process->second.empty()) by_process_.erase(process);
}

void TrafficPipeline::on_process_exit(uint32_t pid, uint64_t mono_ns) {
  const auto process = by_process_.find(pid);
  if (process != by_process_.end()) {
    for (auto& [ssl, connection] : process->second) end_connection(*connection, mono_ns);
    connection_count_ -= process->second.size();
    by_process_.erase(process);
  }
  processes_.forget(pid);
}

void TrafficPipeline::finish(uint64_t mono_ns) {
  for (auto& [pid, connections] : by_process_) {
    for (auto& [ssl, connection] : connections) end_connection(*connection, mono_ns);
  }
  by_process_.clear();
  connection_count_ = 0;
}

void TrafficPipeline::evict_least_recent() {
  uint32_t victim_pid = 0;
  uint64_t victim_ssl = 0;
  uint64_t oldest = std::numeric_limits<uint64_t>::max();
  for (const auto& [pid, connections] : by_process_) {
    for (const auto& [ssl, connection] : connections) {
      if (connection->last_use < oldest) {
        oldest = connection->last_use;
        victim_pid = pid;
        victim_ssl = ssl;
      }
    }
  }
  if (oldest == std::numeric_limits<uint64_t>::max()) return;
  auto process = by_process_.find(victim_pid);
  // Evicted, not ended: what it had in flight is dropped, not reported as unanswered.
  closed_http_stats_ += process->second.at(victim_ssl)->http.stats();
  process->second.erase(victim_ssl);
  if (process->second.empty()) by_process_.erase(process);
  --connection_count_;
  ++stats_.connections_evicted;
}

http::HttpConnectionStats TrafficPipeline::http_stats() const {
  http::HttpConnectionStats total = closed_http_stats_;
  for (const auto& [pid, connections] : by_process_) {
    for (const auto& [ssl, connection] : connections) total += connection->http.stats();
  }
  return total;
}

}  // namespace llmtap::pipeline
