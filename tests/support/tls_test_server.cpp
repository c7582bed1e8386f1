#include "tls_test_server.h"

#include <netdb.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <condition_variable>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>

#include "fake_llm_api.h"
#include "http_request_reader.h"
#include "openssl_handles.h"
#include "tls_listener.h"

namespace llmtap::testing {
namespace {

using namespace std::chrono_literals;

constexpr size_t kReadChunkBytes = size_t{64} * 1024;
// How long a server-initiated close waits for the peer's FIN (see Connection::close_gracefully).
constexpr std::chrono::milliseconds kLingerTimeout = 2s;

// Lets SSL_write report progress record by record, so `sent` holds exactly what went out even
// when the peer disappears halfway through a large response.
SslCtxPtr make_partial_write_context(const std::string& cert_file, const std::string& key_file) {
  SslCtxPtr ctx = make_server_context(cert_file, key_file);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE);
  return ctx;
}

std::pair<std::string, uint16_t> describe_peer(const sockaddr_storage& peer, socklen_t length) {
  char host[NI_MAXHOST] = "?";
  char service[NI_MAXSERV] = "0";
  ::getnameinfo(reinterpret_cast<const sockaddr*>(&peer), length, host, sizeof(host), service,
                sizeof(service), NI_NUMERICHOST | NI_NUMERICSERV);
  return {host, static_cast<uint16_t>(std::stoul(service))};
}

// Thread-safe store of the per-connection records.
class ConnectionRecorder {
 public:
  size_t add(std::string peer_address, uint16_t peer_port) {
    const std::lock_guard lock(mutex_);
    records_.push_back({.peer_address = std::move(peer_address),
                        .peer_port = peer_port,
                        .received = {},
                        .sent = {},
                        .closed = false});
    return records_.size() - 1;
  }

  void append_received(size_t index, std::string_view bytes) {
    const std::lock_guard lock(mutex_);
    records_[index].received.append(bytes);
  }

  void append_sent(size_t index, std::string_view bytes) {
    const std::lock_guard lock(mutex_);
    records_[index].sent.append(bytes);
  }

  void mark_closed(size_t index) {
    {
      const std::lock_guard lock(mutex_);
      if (records_[index].closed) return;
      records_[index].closed = true;
      ++closed_count_;
    }
    closed_changed_.notify_all();
  }

  std::vector<ServerConnectionRecord> snapshot() const {
    const std::lock_guard lock(mutex_);
    return records_;
  }

  bool wait_for_closed(size_t count, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return closed_changed_.wait_for(lock, timeout, [&] { return closed_count_ >= count; });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable closed_changed_;
  std::vector<ServerConnectionRecord> records_;
  size_t closed_count_ = 0;
};

// Serves one accepted connection: TLS handshake, then request/response until it ends.
class Connection {
 public:
  Connection(ConnectionRecorder& recorder, size_t index, SSL_CTX* ctx, int fd,
             const std::function<HttpResponse(const HttpRequest&)>& responder)
      : recorder_(recorder), index_(index), fd_(fd), ssl_(SSL_new(ctx)), responder_(responder) {}

  void run() {
    if (ssl_ && SSL_set_fd(ssl_.get(), fd_) == 1 && SSL_accept(ssl_.get()) == 1) {
      serve_requests();
    } else {
      finish();
    }
  }

 private:
  void serve_requests() {
    bool close_after = false;  // the last response asked to close the connection
    read_http_requests(
        ssl_.get(), kReadChunkBytes,
        [&](HttpRequestReader::Result result, const HttpRequest& request,
            const std::string& error) {
          const HttpResponse response =
              result == HttpRequestReader::Result::kComplete
                  ? (responder_ ? responder_(request) : respond_to(request))
                  : bad_request_response(error);
          if (!write_all(response.bytes)) return false;
          for (const std::string& part : response.parts) {
            std::this_thread::sleep_for(response.part_delay);
            if (!write_all(part)) return false;
          }
          close_after = response.close_after;
          return !close_after;
        },
        [this](std::string_view bytes) { recorder_.append_received(index_, bytes); });
    close_after ? close_gracefully() : finish();
  }

  bool write_all(std::string_view bytes) {
    return ssl_write_all(ssl_.get(), bytes,
                         [this](std::string_view sent) { recorder_.append_sent(index_, sent); });
  }

  // Closing a socket with unread input makes the kernel send RST, which can destroy the
  // response still in flight to the peer. So: send close_notify and FIN, then discard input
  // until the peer closes too (or a timeout).
  void close_gracefully() {
    SSL_shutdown(ssl_.get());
    ::shutdown(fd_, SHUT_WR);
    recorder_.mark_closed(index_);  // nothing more is read through TLS, so the record is final
    discard_input_until_peer_closes(fd_, kLingerTimeout);
    finish();
  }

  // The descriptor itself is closed by the ConnectionAcceptor after joining this thread.
  void finish() {
    ::shutdown(fd_, SHUT_RDWR);
    recorder_.mark_closed(index_);
  }

  ConnectionRecorder& recorder_;
  const size_t index_;
  const int fd_;
  const SslPtr ssl_;
  const std::function<HttpResponse(const HttpRequest&)>& responder_;
};

}  // namespace

struct TlsTestServer::State {
  explicit State(const TlsTestServerOptions& options)
      : ctx(make_partial_write_context(options.cert_file, options.key_file)),
        responder(options.responder),
        acceptor(listen_tcp(options.bind_address, options.port),
                 [this](int fd, const sockaddr_storage& peer, socklen_t length) {
                   return accept(fd, peer, length);
                 }) {}

  // Runs on the accept thread: records the connection, in accept order, before it is served.
  ConnectionAcceptor::Handler accept(int fd, const sockaddr_storage& peer, socklen_t length) {
    auto [address, peer_port] = describe_peer(peer, length);
    const size_t index = recorder.add(std::move(address), peer_port);
    return {
        .serve = [this, fd, index] { Connection(recorder, index, ctx.get(), fd, responder).run(); },
        .dropped = [this, index] { recorder.mark_closed(index); }};
  }

  SslCtxPtr ctx;
  std::function<HttpResponse(const HttpRequest&)> responder;
  ConnectionRecorder recorder;
  // Last, so that it stops and joins the connection threads before the rest goes away.
  ConnectionAcceptor acceptor;
};

TlsTestServer::TlsTestServer(TlsTestServerOptions options)
    : state_(std::make_unique<State>(options)) {}

TlsTestServer::~TlsTestServer() = default;

uint16_t TlsTestServer::port() const { return state_->acceptor.port(); }

std::vector<ServerConnectionRecord> TlsTestServer::connections() const {
  return state_->recorder.snapshot();
}

bool TlsTestServer::wait_for_closed_connections(size_t count,
                                                std::chrono::milliseconds timeout) const {
  return state_->recorder.wait_for_closed(count, timeout);
}

}  // namespace llmtap::testing
