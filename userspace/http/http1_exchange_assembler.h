#pragma once
// HTTP/1.x exchanges of one connection: a framer per direction, responses paired with
// requests in order (pipelining included; the request method tells the response framer
// about HEAD and CONNECT), the request filter applied at the request head. A framing error
// in either direction stops the connection: after it nothing is paired by guesswork.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "http/http1_stream_parser.h"
#include "http/http_connection_options.h"
#include "http/http_exchange.h"

namespace llmtap::http {

class Http1ExchangeAssembler {
 public:
  explicit Http1ExchangeAssembler(HttpConnectionOptions options);
  // Heap-only in practice (the framer's filter points at it), so neither copied nor moved.
  Http1ExchangeAssembler(const Http1ExchangeAssembler&) = delete;
  Http1ExchangeAssembler& operator=(const Http1ExchangeAssembler&) = delete;

  void on_request_bytes(std::string_view bytes, uint64_t mono_ns, std::vector<HttpExchange>& out,
                        HttpConnectionStats& stats);
  void on_response_bytes(std::string_view bytes, uint64_t mono_ns, std::vector<HttpExchange>& out,
                         HttpConnectionStats& stats);
  // Bytes missing from one side (see Http1StreamParser::skip_body); false when the
  // connection cannot be followed across them.
  bool on_gap(bool request_side, uint64_t missing, uint64_t mono_ns, std::vector<HttpExchange>& out,
              HttpConnectionStats& stats);
  // Completes a read-until-close response; emits what is left, cut or unanswered.
  void on_close(std::vector<HttpExchange>& out, HttpConnectionStats& stats);

  bool stopped() const { return stopped_; }
  std::string_view error() const;
  size_t pending_requests() const { return slots_.size(); }

 private:
  // One request from its head on, and the response once it arrives.
  struct Slot {
    bool keep = true;
    bool request_cut = false;  // the request ended with the connection
    std::optional<HttpMessage> request;
    std::optional<HttpMessage> response;
    bool response_cut = false;
  };

  class Feed;

  bool on_request_head(HttpMessage& head);
  // A message a framer just completed, handed over (through a Feed) before the framer reads
  // on: the slots the next request head finds depend only on the bytes before it.
  void on_framed(bool request_side, HttpMessage&& message, std::vector<HttpExchange>& out,
                 HttpConnectionStats& stats);
  void add_request(HttpMessage&& request, bool cut);
  void add_response(HttpMessage&& response, bool cut, HttpConnectionStats& stats);
  void emit_ready(std::vector<HttpExchange>& out, HttpConnectionStats& stats);
  void emit(Slot& slot, std::vector<HttpExchange>& out, HttpConnectionStats& stats);
  void check_state(HttpConnectionStats& stats);

  HttpConnectionOptions options_;
  Http1StreamParser requests_;
  Http1StreamParser responses_;
  std::vector<Slot> slots_;  // request order (a deque allocates even when empty)
  uint64_t filtered_ = 0;    // since the last transfer into the caller's stats
  uint64_t evicted_ = 0;
  uint64_t over_budget_ = 0;
  bool stopped_ = false;
};

}  // namespace llmtap::http
