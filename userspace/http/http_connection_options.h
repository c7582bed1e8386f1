#pragma once
// Configuration and counters of HttpConnectionParser, apart so that the protocol-specific
// assemblers can share them without seeing the parser.

#include <cstddef>
#include <cstdint>
#include <functional>

#include "http/http_message.h"

namespace llmtap::http {

struct HttpConnectionOptions {
  // Body bytes kept per message. Streamed LLM responses need their last event, so the
  // default is generous; longer bodies are counted and cut.
  size_t max_body_kept = 8 << 20;
  // Content-decoded body bytes kept per message (a decompression bomb stops here).
  size_t max_decoded_body = 8 << 20;
  // Body bytes one connection may hold at once across messages in progress or waiting for
  // their response (HTTP/2 streams, pipelined HTTP/1.1 requests), per direction.
  size_t max_connection_body_kept = 16 << 20;
  // Called once per request when its header section is complete. Returning false drops the
  // exchange: neither body is kept or decoded and nothing is emitted (filtered_requests).
  // It may set the head's filter_tag, which the exchange's request then carries.
  std::function<bool(HttpMessage& request_head)> request_filter;
};

// Per connection; add them up across connections with +=.
struct HttpConnectionStats {
  uint64_t exchanges = 0;             // emitted, with or without a response
  uint64_t unanswered_requests = 0;   // emitted without a response (close, reset, error)
  uint64_t incomplete_exchanges = 0;  // emitted with response_incomplete
  uint64_t filtered_requests = 0;     // the request filter said no
  uint64_t orphan_responses = 0;      // responses with no request to pair with
  uint64_t evicted_requests = 0;      // too many requests waiting for responses
  uint64_t parse_errors = 0;          // the connection stopped being parsed
  uint64_t decode_errors = 0;         // bodies whose content coding could not be undone
  uint64_t non_http_connections = 0;  // neither HTTP/1.x nor HTTP/2 from the first bytes
  uint64_t ignored_bytes = 0;         // not parsed: non-HTTP, after an error, tunnels
  // Bodies not kept because the connection already held its budget of body bytes (many
  // concurrent HTTP/2 streams, many pipelined requests): framed and counted, fields lost.
  uint64_t bodies_over_budget = 0;
  uint64_t http1_connections = 0;
  uint64_t http2_connections = 0;

  HttpConnectionStats& operator+=(const HttpConnectionStats& o) {
    exchanges += o.exchanges;
    unanswered_requests += o.unanswered_requests;
    incomplete_exchanges += o.incomplete_exchanges;
    filtered_requests += o.filtered_requests;
    orphan_responses += o.orphan_responses;
    evicted_requests += o.evicted_requests;
    parse_errors += o.parse_errors;
    decode_errors += o.decode_errors;
    non_http_connections += o.non_http_connections;
    ignored_bytes += o.ignored_bytes;
    bodies_over_budget += o.bodies_over_budget;
    http1_connections += o.http1_connections;
    http2_connections += o.http2_connections;
    return *this;
  }
  bool operator==(const HttpConnectionStats&) const = default;
};

}  // namespace llmtap::http
