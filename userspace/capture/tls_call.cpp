#include "capture/tls_call.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <string>

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

size_t format_ipv4(const uint8_t* addr, char* out) {
  char* p = out;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) *p++ = '.';
    const unsigned v = addr[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
  }
  return static_cast<size_t>(p - out);
}

bool is_v4_mapped(const Endpoint& endpoint) {
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return endpoint.family == AF_INET6 &&
         std::equal(std::begin(kMappedPrefix), std::end(kMappedPrefix), endpoint.addr.begin());
}

size_t format_endpoint_text(char* out, const Endpoint& endpoint) {
  const uint8_t* v4 = nullptr;
  if (endpoint.family == AF_INET) {
    v4 = endpoint.addr.data();
  } else if (is_v4_mapped(endpoint)) {
    v4 = endpoint.addr.data() + 12;
  } else if (endpoint.family != AF_INET6) {
    return 0;
  }
  static_assert(kEndpointTextMax >= INET6_ADDRSTRLEN + 8);
  size_t len = 0;
  if (v4 != nullptr) {
    len = format_ipv4(v4, out);
  } else {
    out[0] = '[';
    inet_ntop(AF_INET6, endpoint.addr.data(), out + 1, INET6_ADDRSTRLEN);
    len = std::char_traits<char>::length(out);
    out[len++] = ']';
  }
  out[len++] = ':';
  return static_cast<size_t>(std::to_chars(out + len, out + kEndpointTextMax, endpoint.port).ptr -
                             out);
}

bool append_endpoint_text(std::string& out, const Endpoint& endpoint) {
  char text[kEndpointTextMax];
  const size_t len = format_endpoint_text(text, endpoint);
  out.append(text, len);
  return len != 0;
}

std::string to_string(const Endpoint& endpoint) {
  std::string out;
  append_endpoint_text(out, endpoint);
  return out;
}

}  // namespace llmtap::capture
