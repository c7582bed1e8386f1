// A recording TLS server that answers like an LLM HTTP API, for byte-exact capture tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fake_llm_api.h"
#include "self_signed_certificate.h"

namespace llmtap::testing {

// Everything one accepted TCP connection exchanged, as TLS plaintext.
struct ServerConnectionRecord {
  std::string peer_address;  // numeric, e.g. "127.0.0.1" or "::1"
  uint16_t peer_port = 0;
  std::string received;  // exactly the bytes SSL_read returned, in order
  std::string sent;      // exactly the bytes SSL_write reported as written, in order
  // The connection has ended (peer closed, server closed after `Connection: close` or a 400,
  // TLS/IO error, or server shutdown); the record will not change any more.
  bool closed = false;
};

struct TlsTestServerOptions {
  std::string bind_address = "127.0.0.1";  // also "::1" for IPv6
  uint16_t port = 0;                       // 0 = ephemeral
  std::string cert_file;                   // PEM
  std::string key_file;                    // PEM
  // Answers each request; default: the fake LLM API of fake_llm_api.h.
  std::function<HttpResponse(const HttpRequest&)> responder;
};

// HTTP/1.1 over TLS with keep-alive and pipelining; see fake_llm_api.h for the responses.
// One thread accepts, one thread serves each connection.
class TlsTestServer {
 public:
  // Binds, listens and starts accepting. Throws std::runtime_error on failure.
  explicit TlsTestServer(TlsTestServerOptions options);
  // Stops accepting, shuts down live connections and joins all threads.
  ~TlsTestServer();

  TlsTestServer(const TlsTestServer&) = delete;
  TlsTestServer& operator=(const TlsTestServer&) = delete;

  uint16_t port() const;
  // Snapshot of all connections so far, in accept order.
  std::vector<ServerConnectionRecord> connections() const;
  // Blocks until at least `count` connections are closed or `timeout` passes; returns whether
  // the count was reached.
  bool wait_for_closed_connections(size_t count, std::chrono::milliseconds timeout) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace llmtap::testing
