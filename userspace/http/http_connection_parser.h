#pragma once
// The HTTP stage for one TLS connection: plaintext chunks in, in capture order, from both
// directions; HttpExchange records out when responses end (and at the close). The first
// bytes decide the protocol (HTTP/1.x or HTTP/2) and which direction carries requests, so a
// captured server (whose reads are requests) works like a captured client. A connection
// that starts as neither is ignored for good; one whose framing breaks stops being parsed.
// Instances share nothing: one connection's garbage never touches another's state.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_connection_options.h"
#include "http/http_exchange.h"

namespace llmtap::http {

class Http1ExchangeAssembler;
class Http2ExchangeAssembler;

class HttpConnectionParser {
 public:
  enum class Protocol : uint8_t { kUnknown, kHttp1, kHttp2, kNotHttp };

  explicit HttpConnectionParser(HttpConnectionOptions options = {});
  ~HttpConnectionParser();
  HttpConnectionParser(HttpConnectionParser&&) noexcept;
  HttpConnectionParser& operator=(HttpConnectionParser&&) noexcept;

  // `is_write`: the captured process wrote these bytes (capture::Direction::kWrite, SSL_write);
  // false for bytes it read. `mono_ns`: CLOCK_MONOTONIC capture time. Finished exchanges are
  // appended to `out`.
  void on_data(bool is_write, std::string_view bytes, uint64_t mono_ns,
               std::vector<HttpExchange>& out);
  // `missing` bytes of one direction never reached us (the capture cut a call short or lost
  // it). Returns whether parsing goes on: it does inside an HTTP/1.x body of known length;
  // otherwise the caller should end this parser and start over at the next message.
  bool on_gap(bool is_write, uint64_t missing, uint64_t mono_ns, std::vector<HttpExchange>& out);

  // The connection ended: completes a read-until-close response, emits requests without
  // responses (has_response false) and exchanges cut short (response_incomplete). Later data
  // is ignored.
  void on_close(uint64_t mono_ns, std::vector<HttpExchange>& out);

  Protocol protocol() const { return protocol_; }
  // Which direction carries requests (meaningful once protocol() is HTTP).
  bool requests_are_writes() const { return requests_are_writes_; }
  // Parsing stopped on malformed HTTP (counted in stats().parse_errors).
  bool stopped() const;
  std::string_view error() const;
  const HttpConnectionStats& stats() const { return stats_; }

  // Bytes held while the protocol is undecided (an HTTP/2 server may speak first); past this
  // the connection is not HTTP.
  static constexpr size_t kMaxUndecidedBytes = 64 * 1024;

 private:
  struct HeldChunk {
    bool is_write = false;
    uint64_t mono_ns = 0;
    std::string bytes;
  };

  void sniff(std::vector<HttpExchange>& out);
  void start(Protocol protocol, bool requests_are_writes, std::vector<HttpExchange>& out);
  void dispatch(bool is_write, std::string_view bytes, uint64_t mono_ns,
                std::vector<HttpExchange>& out);
  std::string first_bytes(bool is_write) const;

  HttpConnectionOptions options_;  // moved into the assembler once the protocol is known
  HttpConnectionStats stats_;
  Protocol protocol_ = Protocol::kUnknown;
  bool requests_are_writes_ = true;
  bool closed_ = false;
  std::vector<HeldChunk> held_;  // while kUnknown
  size_t held_bytes_ = 0;
  std::unique_ptr<Http1ExchangeAssembler> http1_;
  std::unique_ptr<Http2ExchangeAssembler> http2_;
};

}  // namespace llmtap::http
