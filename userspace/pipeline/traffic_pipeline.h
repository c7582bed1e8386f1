#pragma once
// The event pipeline after capture, as one straight line: TLS calls -> per-connection HTTP
// exchanges -> provider catalog -> LLM calls -> process identity -> the caller's handler.
// Single-threaded: the capture poll loop drives it. State per open connection is small and
// freed when the capture stage reports the connection's end or its process's exit.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "capture/tls_call.h"
#include "enrich/process_identity_cache.h"
#include "http/http_connection_parser.h"
#include "llm/catalog/provider_catalog.h"
#include "llm/llm_call.h"
#include "llm/llm_call_builder.h"
#include "llm/price_table.h"

namespace llmtap::pipeline {

struct PipelineOptions {
  http::HttpConnectionOptions http;
  llm::ExtractOptions extract;
  size_t max_connections = 65536;  // beyond this the least recently used connection is dropped
  // Estimated cost per call (policies/prices.yaml and the user's overrides); null: none.
  const llm::PriceTable* prices = nullptr;
  // Called once for a connection that will never be parsed (not HTTP, or its HTTP framing
  // broke): the capture can stop copying its bytes.
  std::function<void(uint32_t pid, uint64_t ssl)> quiet_connection;
  // Called when an HTTP/1.x connection's request is not an LLM call (the catalog matches no
  // route): the capture can stop copying it until a call starts a request whose path an LLM
  // route may match (TlsCall::resumed). Unset: such connections stay copied.
  std::function<void(uint32_t pid, uint64_t ssl)> quiet_until_llm_request;
  // Called when a connection handed to either of the above ends.
  std::function<void(uint32_t pid, uint64_t ssl)> forget_quiet;
};

struct PipelineStats {
  uint64_t tls_calls = 0;
  uint64_t tls_bytes = 0;
  uint64_t connections_opened = 0;
  uint64_t connections_closed = 0;
  uint64_t connections_evicted = 0;
  uint64_t gaps = 0;     // holes in a byte stream: calls cut (--max-bytes), partly or wholly lost
  uint64_t resyncs = 0;  // gaps that could not be skipped: parsing started over
  uint64_t resync_dropped_calls = 0;
  uint64_t quieted_connections = 0;  // handed to quiet_connection
  uint64_t quiet_calls = 0;  // calls that arrived without data, as asked
  uint64_t quieted_until_llm_request = 0;  // handed to quiet_until_llm_request
  uint64_t resumed_calls = 0;  // calls that resumed such a connection at an LLM-shaped request
  uint64_t exchanges = 0;    // HTTP exchanges of LLM APIs
  uint64_t llm_calls = 0;
  uint64_t unmatched_exchanges = 0;  // filtered at the head but unmatched at the end (should be 0)
  uint64_t head_matches_reused = 0;  // exchanges given their head's catalog match, not a new one
};

class TrafficPipeline {
 public:
  using CallHandler = std::function<void(const llm::LlmCall&, const llm::CallBodies&)>;
  // realtime_ns converts a CLOCK_MONOTONIC time to wall-clock ns since the epoch.
  using RealtimeClock = std::function<uint64_t(uint64_t mono_ns)>;

  TrafficPipeline(const llm::ProviderCatalog& catalog, PipelineOptions options,
                  enrich::ProcessIdentityCache& processes, RealtimeClock realtime_ns,
                  CallHandler on_call);
  ~TrafficPipeline();

  void on_tls_call(const capture::TlsCall& call);
  void on_tls_close(const capture::TlsClose& close);
  void on_process_exit(uint32_t pid, uint64_t mono_ns);
  // Ends every open connection (agent shutdown): unanswered requests are still reported.
  void finish(uint64_t mono_ns);

  size_t open_connections() const { return connection_count_; }
  const PipelineStats& stats() const { return stats_; }
  // HTTP counters summed over closed and open connections.
  http::HttpConnectionStats http_stats() const;
  const llm::LlmCallBuilderStats& builder_stats() const { return builder_.stats(); }

 private:
  struct Connection;
  using ProcessConnections = std::unordered_map<uint64_t, std::unique_ptr<Connection>>;  // by SSL*

  Connection& connection_for(const capture::TlsCall& call);
  void end_connection(Connection& connection, uint64_t mono_ns);
  void restart_parsing(Connection& connection, uint64_t mono_ns);
  void quiet_if_unparsable(Connection& connection);
  void quiet_if_not_llm(Connection& connection);
  void emit(Connection& connection, std::vector<http::HttpExchange>& exchanges);
  void evict_least_recent();
  // The request filter: whether the head is an LLM API call by the catalog. Its match is kept
  // for the exchange's emit (head_matches_), the head tagged with where.
  bool wanted(http::HttpMessage& request_head);
  std::optional<llm::CatalogMatch> match_of(const http::HttpMessage& request);

  const llm::ProviderCatalog& catalog_;
  PipelineOptions options_;
  enrich::ProcessIdentityCache& processes_;
  RealtimeClock realtime_ns_;
  CallHandler on_call_;
  llm::LlmCallBuilder builder_;
  std::unordered_map<uint32_t, ProcessConnections> by_process_;
  size_t connection_count_ = 0;
  uint64_t sequence_ = 0;
  // The catalog's matches of recent request heads, by tag (the slot is tag % size, and holds
  // that tag while not overwritten): the exchange's emit takes its head's match from here
  // rather than matching the same head again.
  struct HeadMatch {
    uint64_t tag = 0;
    llm::CatalogMatch match;
  };
  static constexpr size_t kHeadMatches = 64;
  std::array<HeadMatch, kHeadMatches> head_matches_;
  uint64_t head_tags_ = 0;
  llm::PriceMemo price_memo_;
  uint64_t use_clock_ = 0;  // increases on every call; orders connections for eviction
  PipelineStats stats_;
  http::HttpConnectionStats closed_http_stats_;
  std::vector<http::HttpExchange> scratch_;
};

}  // namespace llmtap::pipeline
