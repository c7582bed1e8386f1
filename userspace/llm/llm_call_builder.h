#pragma once
// Turns one HTTP exchange that the provider catalog recognised into an LLM call: which API
// and model, streamed or not, status and error, tokens, sizes and timings. Who made the call
// (process, connection) is filled in by the caller.

#include "http/http_exchange.h"
#include "llm/api/extract.h"
#include "llm/catalog/provider_catalog.h"
#include "llm/extraction_memo.h"
#include "llm/key_fingerprint_memo.h"
#include "llm/llm_call.h"

namespace llmtap::llm {

// Counters of what building calls met, for the agent's summary and metrics.
struct LlmCallBuilderStats {
  uint64_t calls = 0;
  uint64_t request_parse_failures = 0;   // request body not JSON of the expected shape
  uint64_t response_parse_failures = 0;  // response body / stream events unreadable
  uint64_t stream_decode_errors = 0;     // SSE / NDJSON / event-stream framing errors
  uint64_t streams_without_end = 0;      // a stream whose final event was not seen
};

class LlmCallBuilder {
 public:
  explicit LlmCallBuilder(ExtractOptions options = {});

  LlmCall build(const http::HttpExchange& exchange, const CatalogMatch& match);

  const LlmCallBuilderStats& stats() const { return stats_; }
  // Extractions reused for a body equal to a recent one's (the other end of a call).
  uint64_t extraction_memo_hits() const { return memo_.hits(); }

 private:
  ExtractOptions options_;
  LlmCallBuilderStats stats_;
  ExtractionMemo memo_;
  KeyFingerprintMemo key_fingerprints_;
};

// The host name of an authority, lowercase: "api.openai.com" from "API.openai.com:443",
// "::1" from "[::1]:8443"; userinfo dropped.
std::string host_without_port(std::string_view authority);

// The request's Host header (HTTP/2's :authority), else an absolute-form target's authority.
std::string_view request_authority(const http::HttpMessage& request);

}  // namespace llmtap::llm
