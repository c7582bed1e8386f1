#include "metrics/metrics_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "metrics/metric_registry.h"

namespace llmtap::metrics {
namespace {

constexpr const char* kTextContentType = "text/plain; charset=utf-8";
constexpr int kListenBacklog = 64;

struct ListenAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  bool every_interface = false;  // ":PORT": one dual-stack socket, IPv4 if IPv6 is missing
};

[[noreturn]] void fail(std::string_view address, std::string_view why) {
  throw std::runtime_error("metrics address " + std::string(address) + " " + std::string(why));
}

bool parse_port(std::string_view text, uint16_t& port) {
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

ListenAddress parse_address(std::string_view address) {
  const auto malformed = [&]() {
    fail(address, "is not HOST:PORT (for example :9464, 127.0.0.1:9464 or [::1]:9464)");
  };
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) malformed();
  std::string host(address.substr(0, colon));
  uint16_t port = 0;
  if (!parse_port(address.substr(colon + 1), port)) malformed();
  ListenAddress out;
  if (host.empty()) {
    auto& v6 = reinterpret_cast<sockaddr_in6&>(out.storage);
    v6.sin6_family = AF_INET6;
    v6.sin6_addr = in6addr_any;
    v6.sin6_port = htons(port);
    out.length = sizeof(v6);
    out.every_interface = true;
  } else if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto& v6 = reinterpret_cast<sockaddr_in6&>(out.storage);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6.sin6_addr) != 1) {
      malformed();
    }
    out.length = sizeof(v6);
  } else {
    auto& v4 = reinterpret_cast<sockaddr_in&>(out.storage);
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &v4.sin_addr) != 1) malformed();
    out.length = sizeof(v4);
  }
  return out;
}

ListenAddress ipv4_every_interface(uint16_t port_network_order) {
  ListenAddress out;
  auto& v4 = reinterpret_cast<sockaddr_in&>(out.storage);
  v4.sin_family = AF_INET;
  v4.sin_addr.s_addr = htonl(INADDR_ANY);
  v4.sin_port = port_network_order;
  out.length = sizeof(v4);
  return out;
}

// The listening socket is ours rather than libmicrohttpd's so that a bind failure reports
// its errno (an address in use is the common one, and deserves its own message).
int listen_on(std::string_view text, ListenAddress address) {
  int fd = socket(address.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 && address.every_interface && errno == EAFNOSUPPORT) {  // kernel without IPv6
    address = ipv4_every_interface(reinterpret_cast<sockaddr_in6&>(address.storage).sin6_port);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  }
  if (fd < 0) fail(text, std::string("cannot be listened on: socket: ") + std::strerror(errno));
  const int on = 1;
  const int off = 0;
  // SO_REUSEADDR lets a restarted agent bind while old connections sit in TIME_WAIT; on Linux
  // it never lets two sockets listen on one port.
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (address.every_interface && address.storage.ss_family == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0 ||
      listen(fd, kListenBacklog) != 0) {
    const int error = errno;
    close(fd);
    if (error == EADDRINUSE) fail(text, "is in use: choose another with --metrics-address");
    fail(text, std::string("cannot be listened on: ") + std::strerror(error));
  }
  return fd;
}

uint16_t bound_port(int fd) {
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) return 0;
  return ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                           : reinterpret_cast<sockaddr_in&>(bound).sin_port);
}

// libmicrohttpd's messages are about single connections (resets, malformed requests): debug.
void log_mhd(void* /*cls*/, const char* format, va_list args) {
  char message[512];
  std::vsnprintf(message, sizeof(message), format, args);
  std::string_view text(message);
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  spdlog::debug("metrics server: {}", text);
}

MHD_Result reply(MHD_Connection* connection, unsigned status, std::string body,
                 const char* content_type, const char* allow = nullptr) {
  // The body is handed over, not copied: a large /metrics page is built once.
  auto* owned = new std::string(std::move(body));
  MHD_Response* response = MHD_create_response_from_buffer_with_free_callback_cls(
      owned->size(), owned->data(), [](void* p) { delete static_cast<std::string*>(p); }, owned);
  if (response == nullptr) {
    delete owned;
    return MHD_NO;
  }
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if (allow != nullptr) MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
  const MHD_Result queued = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return queued;
}

// The inode identifies our socket even if its descriptor number was closed and reused.
ino_t inode_of(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

}  // namespace

struct MetricsServer::Routes {
  static MHD_Result handle(void* cls, MHD_Connection* connection, const char* url,
                           const char* method, const char* /*version*/, const char* /*upload_data*/,
                           size_t* /*upload_data_size*/, void** /*request_state*/) {
    const auto& server = *static_cast<const MetricsServer*>(cls);
    const std::string_view path(url);
    // Answered on the first call, before any request body: none of these takes one.
    try {
      if (path != "/metrics" && path != "/healthz" && path != "/readyz") {
        return reply(connection, MHD_HTTP_NOT_FOUND, "not found\n", kTextContentType);
      }
      // HEAD is GET without the body (libmicrohttpd drops it), as HTTP requires.
      const std::string_view verb(method);
      if (verb != MHD_HTTP_METHOD_GET && verb != MHD_HTTP_METHOD_HEAD) {
        return reply(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
                     kTextContentType, "GET, HEAD");
      }
      if (path == "/metrics") {
        return reply(connection, MHD_HTTP_OK, server.registry_.render(), kMetricsContentType);
      }
      if (path == "/healthz") return reply(connection, MHD_HTTP_OK, "ok", kTextContentType);
      auto [ready, reason] = server.options_.readiness ? server.options_.readiness()
                                                       : std::pair<bool, std::string>{true, ""};
      if (ready) return reply(connection, MHD_HTTP_OK, "ok", kTextContentType);
      return reply(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                   reason.empty() ? "not ready" : std::move(reason), kTextContentType);
    } catch (const std::exception& e) {
      // An exception must not cross into C; the client gets a 500 instead.
      try {
        return reply(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, std::string(e.what()) + "\n",
                     kTextContentType);
      } catch (...) {
        return MHD_NO;  // closes the connection
      }
    } catch (...) {
      return MHD_NO;
    }
  }
};

MetricsServer::MetricsServer(const MetricRegistry& registry, MetricsServerOptions options)
    : registry_(registry), options_(std::move(options)) {}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::start() {
  if (daemon_ != nullptr) return;
  const int fd = listen_on(options_.address, parse_address(options_.address));
  const ino_t inode = inode_of(fd);
  const uint16_t port = bound_port(fd);
  // One internal thread polls every connection (epoll where available), so a slow client
  // costs a descriptor, not a thread; the limits bound both.
  daemon_ = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, nullptr,
      nullptr, &Routes::handle, this, MHD_OPTION_EXTERNAL_LOGGER, &log_mhd, nullptr,
      MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, options_.max_connections,
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(options_.connection_timeout.count()),
      MHD_OPTION_END);
  if (daemon_ == nullptr) {
    // libmicrohttpd does not document whether a failed start closed the socket it was given.
    if (inode_of(fd) == inode) close(fd);
    fail(options_.address, "cannot be served: libmicrohttpd did not start");
  }
  port_ = port;
  spdlog::info("metrics: serving /metrics, /healthz and /readyz on {} (port {})", options_.address,
               port_);
}

void MetricsServer::stop() {
  if (daemon_ == nullptr) return;
  MHD_stop_daemon(daemon_);  // also closes the listening socket
  daemon_ = nullptr;
}

}  // namespace llmtap::metrics
