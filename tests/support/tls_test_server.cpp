#include "tls_test_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <list>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "fake_llm_api.h"
#include "http_request_reader.h"
#include "openssl_handles.h"

namespace llmtap::testing {
namespace {

using namespace std::chrono_literals;

constexpr size_t kReadChunkBytes = size_t{64} * 1024;
constexpr int kListenBacklog = 128;
// How long a server-initiated close waits for the peer's FIN (see Connection::close_gracefully).
constexpr std::chrono::milliseconds kLingerTimeout = 2s;

[[noreturn]] void throw_errno(const std::string& context) {
  throw std::system_error(errno, std::generic_category(), context);
}

SslCtxPtr make_server_context(const std::string& cert_file, const std::string& key_file) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) throw_openssl_error("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // Lets SSL_write report progress record by record, so `sent` holds exactly what went out
  // even when the peer disappears halfway through a large response.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1) {
    throw_openssl_error("loading TLS certificate '" + cert_file + "'");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw_openssl_error("loading TLS private key '" + key_file + "'");
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    throw_openssl_error("TLS key '" + key_file + "' does not match '" + cert_file + "'");
  }
  return ctx;
}

UniqueFd listen_on(const std::string& address, uint16_t port) {
  const std::string where = address + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found);
      rc != 0) {
    throw std::runtime_error("cannot resolve bind address " + where + ": " + gai_strerror(rc));
  }
  const std::unique_ptr<addrinfo, FreeWith<freeaddrinfo>> addresses(found);

  // Non-blocking so a connection reset between poll() and accept() cannot stall the loop.
  UniqueFd fd(::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throw_errno("socket() for " + where);
  const int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) {
    throw_errno("SO_REUSEADDR on " + where);
  }
  if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0) throw_errno("bind " + where);
  if (::listen(fd.get(), kListenBacklog) != 0) throw_errno("listen on " + where);
  return fd;
}

uint16_t local_port(int fd) {
  sockaddr_storage local{};
  socklen_t length = sizeof(local);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    throw_errno("getsockname");
  }
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&local);
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&local);
  return ntohs(local.ss_family == AF_INET6 ? v6->sin6_port : v4->sin_port);
}

std::pair<std::string, uint16_t> describe_peer(const sockaddr_storage& peer, socklen_t length) {
  char host[NI_MAXHOST] = "?";
  char service[NI_MAXSERV] = "0";
  ::getnameinfo(reinterpret_cast<const sockaddr*>(&peer), length, host, sizeof(host), service,
                sizeof(service), NI_NUMERICHOST | NI_NUMERICSERV);
  return {host, static_cast<uint16_t>(std::stoul(service))};
}

// Writing to a socket the peer already closed raises SIGPIPE. Blocking it in the serving
// threads turns that into EPIPE without changing the host process's signal disposition.
void block_sigpipe_in_this_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
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
    HttpRequestReader reader;
    HttpRequest request;
    std::array<char, kReadChunkBytes> buffer;
    for (;;) {
      size_t n = 0;
      ERR_clear_error();
      if (SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &n) != 1) {
        return finish_after_read_failure();
      }
      const std::string_view bytes(buffer.data(), n);
      recorder_.append_received(index_, bytes);
      reader.feed(bytes);
      // One read may complete several pipelined requests; answer them in order.
      for (auto result = reader.next(request); result != HttpRequestReader::Result::kNeedMore;
           result = reader.next(request)) {
        const HttpResponse response = result == HttpRequestReader::Result::kComplete
                                          ? (responder_ ? responder_(request) : respond_to(request))
                                          : bad_request_response(reader.error());
        if (!write_all(response.bytes)) return finish();
        for (const std::string& part : response.parts) {
          std::this_thread::sleep_for(response.part_delay);
          if (!write_all(part)) return finish();
        }
        if (response.close_after) return close_gracefully();
      }
    }
  }

  bool write_all(std::string_view bytes) {
    while (!bytes.empty()) {
      size_t written = 0;
      ERR_clear_error();
      if (SSL_write_ex(ssl_.get(), bytes.data(), bytes.size(), &written) != 1) return false;
      recorder_.append_sent(index_, bytes.substr(0, written));
      bytes.remove_prefix(written);
    }
    return true;
  }

  void finish_after_read_failure() {
    // Answer the peer's close_notify with ours, as a well-behaved server does.
    if (SSL_get_error(ssl_.get(), 0) == SSL_ERROR_ZERO_RETURN) SSL_shutdown(ssl_.get());
    finish();
  }

  // Closing a socket with unread input makes the kernel send RST, which can destroy the
  // response still in flight to the peer. So: send close_notify and FIN, then discard input
  // until the peer closes too (or a timeout).
  void close_gracefully() {
    SSL_shutdown(ssl_.get());
    ::shutdown(fd_, SHUT_WR);
    recorder_.mark_closed(index_);  // nothing more is read through TLS, so the record is final
    const auto deadline = std::chrono::steady_clock::now() + kLingerTimeout;
    std::array<char, 4096> discard;
    for (;;) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd pfd{.fd = fd_, .events = POLLIN, .revents = 0};
      if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
      if (::recv(fd_, discard.data(), discard.size(), 0) <= 0) break;
    }
    finish();
  }

  // The descriptor itself is closed by State after joining this thread (reap or stop).
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
  struct Worker {
    explicit Worker(UniqueFd socket) : fd(std::move(socket)) {}
    // Kept open until the thread is joined, so shutdown() from stop() can never hit a
    // descriptor number that was meanwhile reused.
    UniqueFd fd;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  explicit State(const TlsTestServerOptions& options)
      : ctx(make_server_context(options.cert_file, options.key_file)),
        listen_fd(listen_on(options.bind_address, options.port)),
        wake_fd(::eventfd(0, EFD_CLOEXEC)),
        port(local_port(listen_fd.get())),
        responder(options.responder) {
    if (!wake_fd) throw_errno("eventfd");
    accept_thread = std::thread([this] { accept_loop(); });
  }

  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() { stop(); }

  void accept_loop() {
    block_sigpipe_in_this_thread();  // inherited by every connection thread
    for (;;) {
      std::array<pollfd, 2> fds{{{.fd = listen_fd.get(), .events = POLLIN, .revents = 0},
                                 {.fd = wake_fd.get(), .events = POLLIN, .revents = 0}}};
      if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
      if (fds[1].revents != 0) return;
      if (fds[0].revents & POLLIN) accept_one();
    }
  }

  void accept_one() {
    sockaddr_storage peer{};
    socklen_t length = sizeof(peer);
    UniqueFd fd(
        ::accept4(listen_fd.get(), reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC));
    if (!fd) {
      // Out of descriptors: back off instead of spinning on a permanently readable listener.
      if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(10ms);
      return;
    }
    // Responses go out in one write; don't let Nagle hold back their tail.
    const int on = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    reap_finished_workers();

    auto [address, peer_port] = describe_peer(peer, length);
    const size_t index = recorder.add(std::move(address), peer_port);
    Worker& worker = workers.emplace_back(std::move(fd));
    try {
      worker.thread = std::thread([this, &worker, index] {
        Connection(recorder, index, ctx.get(), worker.fd.get(), responder).run();
        worker.done = true;
      });
    } catch (const std::system_error&) {  // thread limit: drop this connection, keep serving
      workers.pop_back();
      recorder.mark_closed(index);
    }
  }

  void reap_finished_workers() {
    workers.remove_if([](Worker& worker) {
      if (!worker.done) return false;
      worker.thread.join();
      return true;
    });
  }

  void stop() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t ignored = ::write(wake_fd.get(), &one, sizeof(one));
    if (accept_thread.joinable()) accept_thread.join();
    // Unblocks connection threads in SSL_accept/SSL_read/poll; they then finish on their own.
    for (Worker& worker : workers) ::shutdown(worker.fd.get(), SHUT_RDWR);
    for (Worker& worker : workers) worker.thread.join();
    workers.clear();
  }

  SslCtxPtr ctx;
  UniqueFd listen_fd;
  UniqueFd wake_fd;  // eventfd written by stop() to end accept_loop()
  uint16_t port;
  std::function<HttpResponse(const HttpRequest&)> responder;
  ConnectionRecorder recorder;
  std::list<Worker> workers;  // used by the accept thread only, then by stop() after joining it
  std::thread accept_thread;
};

TlsTestServer::TlsTestServer(TlsTestServerOptions options)
    : state_(std::make_unique<State>(options)) {}

TlsTestServer::~TlsTestServer() = default;

uint16_t TlsTestServer::port() const { return state_->port; }

std::vector<ServerConnectionRecord> TlsTestServer::connections() const {
  return state_->recorder.snapshot();
}

bool TlsTestServer::wait_for_closed_connections(size_t count,
                                                std::chrono::milliseconds timeout) const {
  return state_->recorder.wait_for_closed(count, timeout);
}

}  // namespace llmtap::testing
