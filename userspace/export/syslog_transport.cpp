#include "export/syslog_transport.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace llmtap::exporter {
namespace {

using Clock = std::chrono::steady_clock;
using Protocol = SyslogTarget::Protocol;

constexpr uint16_t kDefaultPlainPort = 514;  // RFC 5426 (UDP); RFC 6587 names no port for TCP
constexpr uint16_t kDefaultTlsPort = 6514;   // RFC 5425
// RFC 5426: every receiver takes 480-byte datagrams; 65507 is the most a UDP/IPv4 one carries.
constexpr size_t kMinDatagramBytes = 480;
constexpr size_t kMaxDatagramBytes = 65507;

template <auto FreeFn>
struct FreeWith {
  template <typename T>
  void operator()(T* ptr) const {
    FreeFn(ptr);
  }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, FreeWith<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, FreeWith<SSL_free>>;
using AddrInfoPtr = std::unique_ptr<addrinfo, FreeWith<freeaddrinfo>>;

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string errno_text(int err) { return std::generic_category().message(err); }

std::string_view scheme_of(Protocol protocol) {
  switch (protocol) {
    case Protocol::kUdp:
      return "udp";
    case Protocol::kTcp:
      return "tcp";
    case Protocol::kTls:
      return "tls";
  }
  return "?";
}

bool is_ip_literal(const std::string& host) {
  unsigned char addr[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), addr) == 1 ||
         inet_pton(AF_INET6, host.c_str(), addr) == 1;
}

bool is_host_name(std::string_view host) {
  constexpr size_t kMaxHostName = 253;  // RFC 1035, written as text
  return !host.empty() && host.size() <= kMaxHostName &&
         std::all_of(host.begin(), host.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
         });
}

// "192.0.2.1:514", "[2001:db8::1]:514": where a connection went, for errors.
std::string address_text(const sockaddr* addr, socklen_t length) {
  char host[NI_MAXHOST];
  char port[NI_MAXSERV];
  if (getnameinfo(addr, length, host, sizeof(host), port, sizeof(port),
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  return addr->sa_family == AF_INET6 ? "[" + std::string(host) + "]:" + port
                                     : std::string(host) + ":" + port;
}

// Waits until `fd` is ready for `events` (or has an error for the next call to report).
bool wait_ready(int fd, short events, Clock::time_point deadline, std::string& error) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      error = "timed out";
      return false;
    }
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), INT_MAX)));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) {
      error = "poll: " + errno_text(errno);
      return false;
    }
  }
}

// Resolved at each connect, so a receiver that moves (DNS, a Kubernetes Service) is followed.
AddrInfoPtr resolve(const SyslogTarget& target, int socket_type, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socket_type;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(target.port);
  const int rc = getaddrinfo(target.host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0) {
    error = "resolving " + target.host + ": " +
            (rc == EAI_SYSTEM ? errno_text(errno) : gai_strerror(rc));
    return nullptr;
  }
  return AddrInfoPtr(list);
}

bool connect_before(int fd, const addrinfo& ai, Clock::time_point deadline, std::string& error) {
  if (::connect(fd, ai.ai_addr, ai.ai_addrlen) == 0) return true;
  if (errno != EINPROGRESS && errno != EINTR) {
    error = errno_text(errno);
    return false;
  }
  if (!wait_ready(fd, POLLOUT, deadline, error)) return false;
  int err = 0;
  socklen_t length = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &length) != 0) err = errno;
  if (err != 0) {
    error = errno_text(err);
    return false;
  }
  return true;
}

// Tries each address in turn until one answers; the socket stays non-blocking, so no later call
// can block past its own deadline.
UniqueFd connect_stream(const SyslogTarget& target, Clock::time_point deadline, std::string& peer,
                        std::string& error) {
  const AddrInfoPtr list = resolve(target, SOCK_STREAM, error);
  if (!list) return {};
  error.clear();
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    const std::string where = address_text(ai->ai_addr, ai->ai_addrlen);
    std::string why;
    UniqueFd fd(
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) {
      why = "socket: " + errno_text(errno);
    } else if (connect_before(fd.get(), *ai, deadline, why)) {
      peer = where;
      return fd;
    }
    if (!error.empty()) error += "; ";
    error.append("connecting to ").append(where).append(": ").append(why);
  }
  return {};
}

// OpenSSL's socket BIO writes with write(), which raises SIGPIPE once the receiver is gone; the
// agent must not depend on its process ignoring SIGPIPE, so TLS goes through send(MSG_NOSIGNAL).
// The BIO's data is the stream's UniqueFd, which outlives the TLS session.
int bio_fd(BIO* bio) { return static_cast<const UniqueFd*>(BIO_get_data(bio))->get(); }

int nosigpipe_write(BIO* bio, const char* data, int length) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::send(bio_fd(bio), data, static_cast<size_t>(length), MSG_NOSIGNAL);
  if (n >= 0) return static_cast<int>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(bio);
  return -1;
}

int nosigpipe_read(BIO* bio, char* data, int length) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::recv(bio_fd(bio), data, static_cast<size_t>(length), 0);
  if (n > 0) return static_cast<int>(n);
  if (n == 0) {
    BIO_set_flags(bio, BIO_FLAGS_IN_EOF);  // lets OpenSSL tell a truncated session apart
    return 0;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_read(bio);
  return -1;
}

long nosigpipe_ctrl(BIO* bio, int command, long /*num*/, void* /*ptr*/) {
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;  // nothing is buffered here
    case BIO_CTRL_EOF:
      return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    default:
      return 0;
  }
}

BIO_METHOD* nosigpipe_socket_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "llmtap socket");
    if (m != nullptr &&
        (BIO_meth_set_write(m, nosigpipe_write) != 1 || BIO_meth_set_read(m, nosigpipe_read) != 1 ||
         BIO_meth_set_ctrl(m, nosigpipe_ctrl) != 1)) {
      BIO_meth_free(m);
      m = nullptr;
    }
    return m;
  }();
  return method;
}

// Empties this thread's OpenSSL error queue into one line.
std::string openssl_errors() {
  std::string text;
  while (const unsigned long e = ERR_get_error()) {
    char buffer[256];
    const char* reason = ERR_reason_error_string(e);
    if (reason == nullptr) {
      ERR_error_string_n(e, buffer, sizeof(buffer));
      reason = buffer;
    }
    if (!text.empty()) text += "; ";
    text += reason;
  }
  return text.empty() ? "unknown TLS error" : text;
}

// Built for each connection, so renewed CA or client certificate files are picked up.
SslCtxPtr make_tls_context(const SyslogTarget& target, std::string& error) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) {
    error = "TLS context: " + openssl_errors();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // An encrypted key fails to load instead of OpenSSL asking for a passphrase on the terminal.
  SSL_CTX_set_default_passwd_cb(ctx.get(), [](char*, int, int, void*) { return 0; });
  if (target.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
      error = "loading the system CA store: " + openssl_errors();
      return nullptr;
    }
  } else if (SSL_CTX_load_verify_locations(ctx.get(), target.ca_file.c_str(), nullptr) != 1) {
    error = "loading CA file " + target.ca_file + ": " + openssl_errors();
    return nullptr;
  }
  if (!target.client_cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), target.client_cert_file.c_str()) != 1) {
      error = "loading client certificate " + target.client_cert_file + ": " + openssl_errors();
      return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), target.client_key_file.c_str(), SSL_FILETYPE_PEM) !=
            1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1) {
      error = "loading client key " + target.client_key_file + ": " + openssl_errors();
      return nullptr;
    }
  }
  return ctx;
}

// After an SSL call returned `rc` <= 0: waits for the socket when OpenSSL asks to, else says
// what failed.
bool wait_for_tls(SSL* ssl, int fd, int rc, Clock::time_point deadline, std::string& error) {
  const int saved_errno = errno;
  switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:
      return wait_ready(fd, POLLIN, deadline, error);
    case SSL_ERROR_WANT_WRITE:
      return wait_ready(fd, POLLOUT, deadline, error);
    case SSL_ERROR_ZERO_RETURN:
      error = "the receiver closed the TLS session";
      return false;
    case SSL_ERROR_SYSCALL:
      error = saved_errno != 0 ? errno_text(saved_errno) : "the receiver closed the connection";
      ERR_clear_error();
      return false;
    default: {
      error = openssl_errors();
      const long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) error += std::string(": ") + X509_verify_cert_error_string(verify);
      return false;
    }
  }
}

}  // namespace

namespace detail {

struct SyslogStream {
  UniqueFd fd;
  SslPtr ssl;         // TLS only; freed before the socket closes
  std::string peer;   // "192.0.2.1:6514", for errors
  bool clean = true;  // no error yet: a TLS close_notify may still be sent

  ~SyslogStream() {
    if (ssl && clean) {
      ERR_clear_error();
      SSL_shutdown(ssl.get());  // best effort, non-blocking: tells the receiver we left on purpose
      ERR_clear_error();
    }
  }
};

}  // namespace detail

namespace {

using Stream = detail::SyslogStream;

bool tls_handshake(Stream& s, const SyslogTarget& target, SSL_CTX* ctx, Clock::time_point deadline,
                   std::string& error) {
  ERR_clear_error();
  s.ssl.reset(SSL_new(ctx));
  BIO* bio = nosigpipe_socket_method() != nullptr ? BIO_new(nosigpipe_socket_method()) : nullptr;
  if (!s.ssl || bio == nullptr) {
    BIO_free(bio);
    error = "TLS session: " + openssl_errors();
    return false;
  }
  BIO_set_data(bio, &s.fd);
  BIO_set_init(bio, 1);
  SSL_set_bio(s.ssl.get(), bio, bio);  // the session owns the BIO, not the socket

  const bool ip = is_ip_literal(target.host);
  // SNI carries names only (RFC 6066).
  if (!ip && SSL_set_tlsext_host_name(s.ssl.get(), target.host.c_str()) != 1) {
    error = "TLS server name: " + openssl_errors();
    return false;
  }
  if (target.verify_hostname) {
    X509_VERIFY_PARAM* param = SSL_get0_param(s.ssl.get());
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, target.host.c_str())
                      : X509_VERIFY_PARAM_set1_host(param, target.host.c_str(), 0);
    if (ok != 1) {
      error = "TLS host name check: " + openssl_errors();
      return false;
    }
  }
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_connect(s.ssl.get());
    if (rc == 1) return true;
    std::string why;
    if (!wait_for_tls(s.ssl.get(), s.fd.get(), rc, deadline, why)) {
      error = "TLS handshake with " + s.peer + ": " + why;
      return false;
    }
  }
}

std::unique_ptr<Stream> open_stream(const SyslogTarget& target, std::string& error) {
  const auto deadline = Clock::now() + target.connect_timeout;
  auto s = std::make_unique<Stream>();
  s->fd = connect_stream(target, deadline, s->peer, error);
  if (!s->fd) return nullptr;
  // Finds a receiver that vanished without a FIN (a rebooted host) before the next batch.
  const int on = 1;
  setsockopt(s->fd.get(), SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
  if (target.protocol == Protocol::kTls) {
    const SslCtxPtr ctx = make_tls_context(target, error);
    if (!ctx || !tls_handshake(*s, target, ctx.get(), deadline, error)) {
      s->clean = false;
      return nullptr;
    }
  }
  return s;
}

std::unique_ptr<Stream> open_datagram_socket(const SyslogTarget& target, std::string& error) {
  const AddrInfoPtr list = resolve(target, SOCK_DGRAM, error);
  if (!list) return nullptr;
  error.clear();
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    auto s = std::make_unique<Stream>();
    s->peer = address_text(ai->ai_addr, ai->ai_addrlen);
    s->fd = UniqueFd(
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    // Connected, so the kernel reports an ICMP "port unreachable" to the next send.
    if (s->fd && ::connect(s->fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) return s;
    if (!error.empty()) error += "; ";
    error += "socket to " + s->peer + ": " + errno_text(errno);
  }
  return nullptr;
}

// A receiver that restarted has closed our connection, yet one more write to it would succeed
// and its batch be lost: look for the FIN (or TLS close_notify) before each batch. A close that
// races with the batch itself is not seen: plain syslog has no acknowledgements.
bool still_open(Stream& s) {
  if (s.ssl) {
    char byte = 0;
    for (int i = 0; i < 64; ++i) {  // TLS 1.3 session tickets arrive as records to be read
      ERR_clear_error();
      const int rc = SSL_read(s.ssl.get(), &byte, 1);
      if (rc > 0) continue;  // a syslog receiver has nothing to say: discarded
      const int e = SSL_get_error(s.ssl.get(), rc);
      ERR_clear_error();
      return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
    }
    return true;
  }
  pollfd p{s.fd.get(), POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return true;
  if ((p.revents & (POLLERR | POLLHUP | POLLRDHUP)) != 0) return false;
  char buffer[512];
  const ssize_t n = ::recv(s.fd.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
  return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

// Writes all of `data`; fails when the receiver takes nothing for `stall_timeout`.
bool write_all(Stream& s, std::string_view data, std::chrono::milliseconds stall_timeout,
               std::string& error) {
  auto deadline = Clock::now() + stall_timeout;
  std::string why;
  while (!data.empty()) {
    size_t written = 0;
    if (s.ssl) {
      ERR_clear_error();
      const int chunk = static_cast<int>(std::min<size_t>(data.size(), INT_MAX));
      const int rc = SSL_write(s.ssl.get(), data.data(), chunk);
      if (rc <= 0) {
        if (!wait_for_tls(s.ssl.get(), s.fd.get(), rc, deadline, why)) break;
        continue;
      }
      written = static_cast<size_t>(rc);
    } else {
      const ssize_t n = ::send(s.fd.get(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          why = errno_text(errno);
          break;
        }
        if (!wait_ready(s.fd.get(), POLLOUT, deadline, why)) break;
        continue;
      }
      written = static_cast<size_t>(n);
    }
    data.remove_prefix(written);
    deadline = Clock::now() + stall_timeout;  // progress: the receiver is reading
  }
  if (data.empty()) return true;
  if (why == "timed out") {
    why = "timed out: nothing taken for " + std::to_string(stall_timeout.count()) + " ms";
  }
  error = "writing to " + s.peer + ": " + why;
  return false;
}

// The longest prefix of `text` within `limit` bytes that does not split a UTF-8 sequence.
size_t utf8_prefix_length(std::string_view text, size_t limit) {
  if (text.size() <= limit) return text.size();
  size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

}  // namespace

std::optional<SyslogTarget> parse_syslog_url(std::string_view url, std::string& error) {
  // Errors never repeat the URL: a mistyped one may hold a password.
  const size_t separator = url.find("://");
  if (separator == std::string_view::npos) {
    error = "a syslog URL starts with udp://, tcp:// or tls://";
    return std::nullopt;
  }
  std::string scheme(url.substr(0, separator));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  SyslogTarget target;
  if (scheme == "udp") {
    target.protocol = Protocol::kUdp;
    target.port = kDefaultPlainPort;
  } else if (scheme == "tcp") {
    target.protocol = Protocol::kTcp;
    target.port = kDefaultPlainPort;
  } else if (scheme == "tls") {
    target.protocol = Protocol::kTls;
    target.port = kDefaultTlsPort;
  } else {
    error = "unknown syslog protocol '" + scheme + "' (udp, tcp or tls)";
    return std::nullopt;
  }

  std::string_view rest = url.substr(separator + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    error = "a syslog URL has a host and a port only (no user, path or query)";
    return std::nullopt;
  }
  std::string_view host;
  std::string_view port_part;  // ":514", or empty
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      error = "unclosed '[' around the IPv6 address";
      return std::nullopt;
    }
    host = rest.substr(1, close - 1);
    port_part = rest.substr(close + 1);
    in6_addr addr{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &addr) != 1) {
      error = "not an IPv6 address between '[' and ']'";
      return std::nullopt;
    }
  } else {
    const size_t colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) port_part = rest.substr(colon);
    if (port_part.find(':', 1) != std::string_view::npos) {
      error = "an IPv6 address goes in brackets: tcp://[2001:db8::1]:514";
      return std::nullopt;
    }
    if (!is_host_name(host)) {
      error = host.empty() ? "no host in the syslog URL" : "not a host name or address";
      return std::nullopt;
    }
  }
  if (!port_part.empty()) {
    const std::string_view digits = port_part.substr(1);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (port_part.front() != ':' || digits.empty() || ec != std::errc() ||
        end != digits.data() + digits.size() || port == 0 || port > 65535) {
      error = "the port is a number from 1 to 65535";
      return std::nullopt;
    }
    target.port = static_cast<uint16_t>(port);
  }
  target.host = std::string(host);
  return target;
}

std::string syslog_url(const SyslogTarget& target) {
  const bool bracket = target.host.find(':') != std::string::npos;
  return std::string(scheme_of(target.protocol)) + "://" + (bracket ? "[" : "") + target.host +
         (bracket ? "]" : "") + ":" + std::to_string(target.port);
}

SyslogTransport::SyslogTransport(SyslogTarget target, SyslogIdentity identity)
    : target_(std::move(target)), identity_(std::move(identity)) {
  const std::string where = "syslog " + syslog_url(target_) + ": ";
  if (target_.host.empty() || target_.port == 0) {
    throw std::invalid_argument(where + "no host or port");
  }
  if (target_.connect_timeout.count() <= 0 || target_.write_timeout.count() <= 0) {
    throw std::invalid_argument(where + "timeouts must be positive");
  }
  if (target_.protocol == Protocol::kUdp && (target_.max_datagram_bytes < kMinDatagramBytes ||
                                             target_.max_datagram_bytes > kMaxDatagramBytes)) {
    throw std::invalid_argument(where + "the datagram size must be from " +
                                std::to_string(kMinDatagramBytes) + " to " +
                                std::to_string(kMaxDatagramBytes) + " bytes");
  }
  if (target_.protocol == Protocol::kTls) {
    if (target_.client_cert_file.empty() != target_.client_key_file.empty()) {
      throw std::invalid_argument(where +
                                  "a client certificate needs its key, and a key its "
                                  "certificate");
    }
    // Files that do not load now would fail every connect: say so at startup.
    std::string error;
    if (!make_tls_context(target_, error)) throw std::invalid_argument(where + error);
  }
}

SyslogTransport::~SyslogTransport() = default;

std::string SyslogTransport::describe() const { return "syslog " + syslog_url(target_); }

SendResult SyslogTransport::send(std::span<const OutRecord> records) {
  if (records.empty()) return {};
  std::string error;
  const bool sent = target_.protocol == Protocol::kUdp ? send_datagrams(records, error)
                                                       : send_stream(records, error);
  if (sent) return {};
  // Whatever state the connection is in, the next batch starts on a new one.
  if (stream_) stream_->clean = false;
  stream_.reset();
  return {SendResult::Kind::kRetry, error};
}

// One datagram a record. UDP cannot tell a lost datagram: only a local error (or an ICMP
// "port unreachable" the kernel has seen) makes the batch a retry.
bool SyslogTransport::send_datagrams(std::span<const OutRecord> records, std::string& error) {
  if (!stream_) {
    stream_ = open_datagram_socket(target_, error);
    if (!stream_) return false;
  }
  for (const OutRecord& record : records) {
    std::string message = format_rfc5424(record, identity_);
    // An oversized datagram fails with EMSGSIZE for ever; cut, it still reaches the receiver.
    if (message.size() > target_.max_datagram_bytes) {
      message.resize(utf8_prefix_length(message, target_.max_datagram_bytes));
      truncated_records_.fetch_add(1);
      if (!truncation_logged_) {
        truncation_logged_ = true;
        spdlog::warn(
            "{}: records over {} bytes are cut to fit one datagram (use tcp:// or "
            "tls:// for whole records)",
            describe(), target_.max_datagram_bytes);
      }
    }
    const auto deadline = Clock::now() + target_.write_timeout;
    for (;;) {
      if (::send(stream_->fd.get(), message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT) >=
          0) {
        break;
      }
      const int err = errno;
      if (err == EINTR) continue;
      std::string why = errno_text(err);
      if ((err == EAGAIN || err == EWOULDBLOCK) &&
          wait_ready(stream_->fd.get(), POLLOUT, deadline, why)) {
        continue;
      }
      error = "sending to " + stream_->peer + ": " + why;
      return false;
    }
  }
  return true;
}

// RFC 6587 octet counting ("LEN SP MSG"): a message may hold newlines and stays one message.
bool SyslogTransport::send_stream(std::span<const OutRecord> records, std::string& error) {
  if (stream_ && !still_open(*stream_)) {
    stream_->clean = false;
    stream_.reset();
  }
  if (!stream_) {
    stream_ = open_stream(target_, error);
    if (!stream_) return false;
  }
  size_t size = 0;
  for (const OutRecord& record : records) size += record.payload.size() + 160;
  std::string frames;
  frames.reserve(size);
  for (const OutRecord& record : records) {
    const std::string message = format_rfc5424(record, identity_);
    frames += std::to_string(message.size());
    frames += ' ';
    frames += message;
  }
  return write_all(*stream_, frames, target_.write_timeout, error);
}

}  // namespace llmtap::exporter
