#include "tls_listener.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace llmtap::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kListenBacklog = 128;

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

void block_sigpipe_in_this_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace

void throw_errno(const std::string& context) {
  throw std::system_error(errno, std::generic_category(), context);
}

TcpListener listen_tcp(const std::string& address, uint16_t port) {
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

  UniqueFd fd(::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throw_errno("socket() for " + where);
  const int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) {
    throw_errno("SO_REUSEADDR on " + where);
  }
  if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0) throw_errno("bind " + where);
  if (::listen(fd.get(), kListenBacklog) != 0) throw_errno("listen on " + where);
  const uint16_t bound_port = local_port(fd.get());
  return {.fd = std::move(fd), .port = bound_port};
}

SslCtxPtr make_server_context(const std::string& cert_file, const std::string& key_file) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) throw_openssl_error("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
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

void read_http_requests(SSL* ssl, size_t chunk_bytes, const OnHttpRequest& on_request,
                        const std::function<void(std::string_view)>& on_read) {
  HttpRequestReader reader;
  HttpRequest request;
  std::vector<char> buffer(chunk_bytes);
  for (;;) {
    size_t n = 0;
    ERR_clear_error();
    if (SSL_read_ex(ssl, buffer.data(), buffer.size(), &n) != 1) {
      if (SSL_get_error(ssl, 0) == SSL_ERROR_ZERO_RETURN) SSL_shutdown(ssl);
      return;
    }
    const std::string_view bytes(buffer.data(), n);
    if (on_read) on_read(bytes);
    reader.feed(bytes);
    for (auto result = reader.next(request); result != HttpRequestReader::Result::kNeedMore;
         result = reader.next(request)) {
      if (!on_request(result, request, reader.error())) return;
      if (result == HttpRequestReader::Result::kMalformed) return;  // kMalformed is sticky
    }
  }
}

bool ssl_write_all(SSL* ssl, std::string_view bytes,
                   const std::function<void(std::string_view)>& on_written) {
  while (!bytes.empty()) {
    size_t written = 0;
    ERR_clear_error();
    if (SSL_write_ex(ssl, bytes.data(), bytes.size(), &written) != 1) return false;
    if (on_written) on_written(bytes.substr(0, written));
    bytes.remove_prefix(written);
  }
  return true;
}

void discard_input_until_peer_closes(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<char, 4096> discard;
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd pfd{.fd = fd, .events = POLLIN, .revents = 0};
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    if (::recv(fd, discard.data(), discard.size(), 0) <= 0) break;
  }
}

ConnectionAcceptor::ConnectionAcceptor(TcpListener listener, OnAccept on_accept)
    : listen_fd_(std::move(listener.fd)),
      port_(listener.port),
      wake_fd_(::eventfd(0, EFD_CLOEXEC)),
      on_accept_(std::move(on_accept)) {
  if (!wake_fd_) throw_errno("eventfd");
  accept_thread_ = std::thread([this] { accept_loop(); });
}

ConnectionAcceptor::~ConnectionAcceptor() { stop(); }

void ConnectionAcceptor::stop() {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t ignored = ::write(wake_fd_.get(), &one, sizeof(one));
  if (accept_thread_.joinable()) accept_thread_.join();
  for (Worker& worker : workers_) ::shutdown(worker.fd.get(), SHUT_RDWR);
  for (Worker& worker : workers_) worker.thread.join();
  workers_.clear();
}

void ConnectionAcceptor::accept_loop() {
  block_sigpipe_in_this_thread();  // inherited by every connection thread
  for (;;) {
    std::array<pollfd, 2> fds{{{.fd = listen_fd_.get(), .events = POLLIN, .revents = 0},
                               {.fd = wake_fd_.get(), .events = POLLIN, .revents = 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if (fds[0].revents & POLLIN) accept_one();
  }
}

void ConnectionAcceptor::accept_one() {
  sockaddr_storage peer{};
  socklen_t length = sizeof(peer);
  UniqueFd fd(
      ::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC));
  if (!fd) {
    // Out of descriptors: back off instead of spinning on a permanently readable listener.
    if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(10ms);
    return;
  }
  const int on = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  reap_finished_workers();

  Handler handler = on_accept_(fd.get(), peer, length);
  Worker& worker = workers_.emplace_back(std::move(fd));
  try {
    worker.thread = std::thread([&worker, serve = std::move(handler.serve)] {
      serve();
      worker.done = true;
    });
  } catch (const std::system_error&) {  // thread limit: drop this connection, keep serving
    workers_.pop_back();
    if (handler.dropped) handler.dropped();
  }
}

void ConnectionAcceptor::reap_finished_workers() {
  workers_.remove_if([](Worker& worker) {
    if (!worker.done) return false;
    worker.thread.join();
    return true;
  });
}

}  // namespace llmtap::testing
