#include "capture/tls_call.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>

namespace llmtap::capture {

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
