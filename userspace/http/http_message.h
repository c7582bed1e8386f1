#pragma once
// One HTTP message as framed from a TLS connection's plaintext: the start line (HTTP/1.x) or
// pseudo-header fields (HTTP/2), the header fields as received, and the body with transfer
// coding or frames removed (content codings such as gzip are left alone; a later stage
// decodes them).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::http {

struct HttpHeader {
  std::string name;  // as received; compare with ascii_iequals
  std::string value;  // surrounding whitespace removed
  bool operator==(const HttpHeader&) const = default;
};

struct HttpMessage {
  bool is_request = false;
  // Requests: the request method. Responses: the method of the request this answers,
  // when the caller announced it with expect_response_to (empty otherwise).
  std::string method;
  std::string target;  // requests only
  int status = 0;      // responses only
  std::string reason;  // responses only
  int version_minor = 1;
  std::vector<HttpHeader> headers;
  std::vector<HttpHeader> trailers;  // chunked bodies only
  std::string body;  // de-chunked, possibly cut to the body limit
  uint64_t body_bytes = 0;  // real body length on the wire after de-chunking, even if not kept
  bool body_truncated = false;
  uint64_t header_bytes = 0;  // start line + header section, line terminators included
  // Everything on the wire for this message: header section and body with its framing
  // (chunk lines, trailers; for HTTP/2 every frame of the stream, frame headers and padding).
  uint64_t wire_bytes = 0;
  uint64_t first_ns = 0;  // CLOCK_MONOTONIC time of the bytes holding its first byte (0 = unknown)
  uint64_t last_ns = 0;   // ... and of those holding its last byte
  uint32_t stream_id = 0;  // HTTP/2 stream; 0 for HTTP/1.x
  // A keep-body decision said not to store the body: it was framed and counted, not kept.
  bool body_skipped = false;
  // Requests: what the request filter (HttpConnectionOptions) noted on the head, carried to
  // the exchange (0: nothing).
  uint64_t filter_tag = 0;
  bool operator==(const HttpMessage&) const = default;
};

// ASCII case-insensitive equality (header names and tokens are ASCII by definition).
bool ascii_iequals(std::string_view a, std::string_view b);

// The value of the first header named `name` (case-insensitive), if any.
std::optional<std::string_view> header(const HttpMessage& message, std::string_view name);
std::optional<std::string_view> find_header(const std::vector<HttpHeader>& headers,
                                            std::string_view name);

}  // namespace llmtap::http
