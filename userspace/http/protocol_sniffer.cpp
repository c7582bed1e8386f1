#include "http/protocol_sniffer.h"

#include <algorithm>
#include <cstdint>

#include "http/http2_frame_reader.h"

namespace llmtap::http {
namespace {

// Longer than any registered method (the longest common one is 7, WebDAV's are longer).
constexpr size_t kMaxMethodBytes = 20;
constexpr std::string_view kStatusLineStart = "HTTP/1.";

bool is_method_char(char c) { return (c >= 'A' && c <= 'Z') || c == '-' || c == '_'; }

bool is_prefix_of(std::string_view bytes, std::string_view whole) {
  return whole.starts_with(bytes.substr(0, std::min(bytes.size(), whole.size())));
}

SniffedProtocol sniff_request_line(std::string_view bytes) {
  const size_t method_end =
      static_cast<size_t>(std::ranges::find_if_not(bytes, is_method_char) - bytes.begin());
  if (method_end > kMaxMethodBytes) return SniffedProtocol::kNotHttp;
  if (method_end == bytes.size()) return SniffedProtocol::kNeedMore;
  return method_end > 0 && bytes[method_end] == ' ' ? SniffedProtocol::kHttp1Request
                                                    : SniffedProtocol::kNotHttp;
}

// A server's first frame is SETTINGS on stream 0 (RFC 9113 3.4), without ACK, a whole number of
// 6-byte settings, and in practice short.
SniffedProtocol sniff_server_settings(std::string_view bytes) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  if (bytes.empty() || byte(0) != 0) return SniffedProtocol::kNotHttp;
  if (bytes.size() < h2::kFrameHeaderBytes) return SniffedProtocol::kNeedMore;
  const uint32_t length = (uint32_t{byte(1)} << 8) | byte(2);
  const bool settings = byte(3) == h2::kSettings && byte(4) == 0 && byte(5) == 0 && byte(6) == 0 &&
                        byte(7) == 0 && byte(8) == 0 && length % 6 == 0 && length <= 6 * 16;
  return settings ? SniffedProtocol::kHttp2ServerStart : SniffedProtocol::kNotHttp;
}

}  // namespace

SniffedProtocol sniff_protocol(std::string_view bytes) {
  if (bytes.empty()) return SniffedProtocol::kNeedMore;
  if (bytes.starts_with(h2::kPreface)) return SniffedProtocol::kHttp2Preface;
  // "PRI * HTTP/2.0" also reads as a request line, and "H" could start a method or "HTTP/1.",
  // so a prefix of the preface or of a status line waits for more.
  if (is_prefix_of(bytes, h2::kPreface)) return SniffedProtocol::kNeedMore;
  if (bytes.starts_with(kStatusLineStart)) return SniffedProtocol::kHttp1Response;
  if (is_prefix_of(bytes, kStatusLineStart)) return SniffedProtocol::kNeedMore;
  const SniffedProtocol request = sniff_request_line(bytes);
  if (request != SniffedProtocol::kNotHttp) return request;
  return sniff_server_settings(bytes);
}

}  // namespace llmtap::http
