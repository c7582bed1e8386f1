#include "capture/tls_call.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>

namespace llmtap::capture {

std::optional<Endpoint> parse_endpoint(std::string_view text) {
  std::string host;
  std::string_view port_text;
  if (text.starts_with("[")) {
    const size_t close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    host.assign(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    host.assign(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  if (port_text.empty() || port_text.size() > 5) return std::nullopt;
  for (const char ch : port_text) {
    if (ch < '0' || ch > '9') return std::nullopt;
    port = port * 10 + static_cast<unsigned>(ch - '0');
  }
  if (port == 0 || port > 65535) return std::nullopt;
  Endpoint e;
  e.port = static_cast<uint16_t>(port);
  if (inet_pton(AF_INET, host.c_str(), e.addr.data()) == 1) {
    e.family = AF_INET;
  } else if (inet_pton(AF_INET6, host.c_str(), e.addr.data()) == 1) {
    e.family = AF_INET6;
  } else {
    return std::nullopt;
  }
  return e;
}

std::string_view to_string(CloseReason reason) {
  switch (reason) {
    case CloseReason::kFdClosed:
      return "fd_closed";
    case CloseReason::kSessionFreed:
      return "session_freed";
    case CloseReason::kProcessExited:
      return "process_exited";
  }
  return "unknown";
}

std::string_view to_string(Direction direction) {
  return direction == Direction::kWrite ? "write" : "read";
}

std::string_view to_string(TlsLib lib) {
  switch (lib) {
    case TlsLib::kOpenSsl:
      return "openssl";
    case TlsLib::kGnuTls:
      return "gnutls";
    case TlsLib::kUnknown:
      break;
  }
  return "unknown";
}

std::string to_string(const Endpoint& endpoint) {
  char text[INET6_ADDRSTRLEN] = {};
  if (endpoint.family == AF_INET) {
    inet_ntop(AF_INET, endpoint.addr.data(), text, sizeof(text));
    return std::string(text) + ":" + std::to_string(endpoint.port);
  }
  if (endpoint.family == AF_INET6) {
    static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(std::begin(kMappedPrefix), std::end(kMappedPrefix), endpoint.addr.begin())) {
      inet_ntop(AF_INET, endpoint.addr.data() + 12, text, sizeof(text));
      return std::string(text) + ":" + std::to_string(endpoint.port);
    }
    inet_ntop(AF_INET6, endpoint.addr.data(), text, sizeof(text));
    return "[" + std::string(text) + "]:" + std::to_string(endpoint.port);
  }
  return {};
}

}  // namespace llmtap::capture
