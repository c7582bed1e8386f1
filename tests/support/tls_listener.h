// Socket, TLS and accept-thread plumbing shared by the test servers (TlsTestServer,
// FakeKubeApiServer): each is a TLS server that serves every connection on a thread of its own.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "http_request_reader.h"
#include "openssl_handles.h"

namespace llmtap::testing {

// Throws std::system_error for the current errno, with `context` as its message.
[[noreturn]] void throw_errno(const std::string& context);

// A listening TCP socket and the port it is bound to.
struct TcpListener {
  UniqueFd fd;        // non-blocking, close-on-exec
  uint16_t port = 0;  // the kernel's pick when port 0 was asked for
};

// Binds a TCP socket to `address` (numeric, e.g. "127.0.0.1" or "::1") and `port` (0 =
// ephemeral) with SO_REUSEADDR, and listens on it. The socket is non-blocking, so a connection
// reset between poll() and accept() cannot stall an accept loop. Throws std::runtime_error
// (std::system_error for a failed socket call) on failure.
TcpListener listen_tcp(const std::string& address, uint16_t port);

// A server context for TLS 1.2 and later with the certificate chain of `cert_file` and the
// private key of `key_file` (both PEM). Throws std::runtime_error when they cannot be loaded
// or do not match.
SslCtxPtr make_server_context(const std::string& cert_file, const std::string& key_file);

// Called with each request read from a connection: kComplete with the request, or kMalformed
// with the reason in `error`. Returns whether to go on reading.
using OnHttpRequest = std::function<bool(HttpRequestReader::Result result,
                                         const HttpRequest& request, const std::string& error)>;

// Reads HTTP requests from `ssl` (after its handshake) in reads of up to `chunk_bytes` and passes
// them to `on_request` in order; one read may complete several pipelined requests. `on_read`,
// when set, sees every read's bytes first. Returns when the connection ends or fails (a
// close_notify from the peer is answered with ours, as a well-behaved server does), when
// `on_request` returns false, or after a malformed request (nothing can follow it).
void read_http_requests(SSL* ssl, size_t chunk_bytes, const OnHttpRequest& on_request,
                        const std::function<void(std::string_view)>& on_read = {});

// Writes all of `bytes` through `ssl`; calls `on_written` (when set) with each piece that
// SSL_write reported as written, in order. Returns false when a write fails.
bool ssl_write_all(SSL* ssl, std::string_view bytes,
                   const std::function<void(std::string_view)>& on_written = {});

// Reads and discards input on `fd` until the peer closes, a read fails or `timeout` passes.
// For a server-initiated close after close_notify and shutdown(SHUT_WR): closing a socket
// with unread input makes the kernel send RST, which can destroy the response still in flight.
void discard_input_until_peer_closes(int fd, std::chrono::milliseconds timeout);

// Accepts connections on a listening socket in a thread of its own and serves each one on a
// thread of its own, until stop(). Every accepted socket gets TCP_NODELAY (a response goes out
// in one write; Nagle must not hold back its tail), and SIGPIPE is blocked in all these threads
// (a write to a closed peer fails with EPIPE instead) without changing the process's signal
// disposition.
class ConnectionAcceptor {
 public:
  // What to do with one accepted connection.
  struct Handler {
    // Runs on the connection's own thread. The socket stays open until the thread is joined
    // (by the accept thread at a later accept once `serve` has returned, or by stop()), so
    // `serve` may shut it down but must not close it.
    std::function<void()> serve;
    // Runs on the accept thread instead of `serve` when no thread could be started; the
    // connection is then closed. May be empty.
    std::function<void()> dropped;
  };
  // Called on the accept thread for each accepted socket `fd`, in accept order, before the
  // connection's thread starts.
  using OnAccept =
      std::function<Handler(int fd, const sockaddr_storage& peer, socklen_t peer_length)>;

  // Starts the accept thread on `listener`. Throws std::system_error on failure.
  ConnectionAcceptor(TcpListener listener, OnAccept on_accept);
  // stop()
  ~ConnectionAcceptor();

  ConnectionAcceptor(const ConnectionAcceptor&) = delete;
  ConnectionAcceptor& operator=(const ConnectionAcceptor&) = delete;

  uint16_t port() const { return port_; }

  // Stops accepting, shuts down (SHUT_RDWR) every connection's socket, which unblocks its
  // thread in a TLS handshake, read or write, and joins all threads. Calling it again does
  // nothing more.
  void stop();

 private:
  struct Worker {
    explicit Worker(UniqueFd socket) : fd(std::move(socket)) {}
    // Kept open until the thread is joined, so shutdown() from stop() can never hit a
    // descriptor number that was meanwhile reused.
    UniqueFd fd;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void accept_loop();
  void accept_one();
  void reap_finished_workers();

  UniqueFd listen_fd_;
  uint16_t port_;
  UniqueFd wake_fd_;  // eventfd written by stop() to end accept_loop()
  OnAccept on_accept_;
  std::list<Worker> workers_;  // used by the accept thread only, then by stop() after joining it
  std::thread accept_thread_;
};

}  // namespace llmtap::testing
