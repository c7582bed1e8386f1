#pragma once
// One HTTP request and its response as seen on one TLS connection: the HTTP stage's output.
// Bodies are de-chunked (HTTP/1.1) or de-framed (HTTP/2) and content-decoded (gzip, deflate,
// br, zstd), each cut to the configured limit; the byte counts are those on the wire.

#include <cstdint>
#include <string>

#include "http/http_message.h"

namespace llmtap::http {

enum class HttpVersion : uint8_t { kHttp1 = 1, kHttp2 = 2 };

struct HttpExchange {
  HttpVersion version = HttpVersion::kHttp1;
  uint32_t stream_id = 0;  // HTTP/2 stream; 0 for HTTP/1.x
  HttpMessage request;
  HttpMessage response;    // meaningful only when has_response
  bool has_response = false;
  // The response (or request) ended because the connection ended before its end was seen.
  bool response_incomplete = false;

  // CLOCK_MONOTONIC times of the first and last captured byte of each side (0 = none).
  uint64_t request_first_ns = 0;
  uint64_t request_last_ns = 0;
  uint64_t response_first_ns = 0;
  uint64_t response_last_ns = 0;

  // Bytes on the wire (after TLS, before any decoding), headers included.
  uint64_t request_wire_bytes = 0;
  uint64_t response_wire_bytes = 0;

  // Content decoding of each body (request.body / response.body hold the decoded bytes).
  std::string request_content_encoding;   // as the header named it, empty for identity
  std::string response_content_encoding;
  std::string request_decode_error;   // empty when decoding succeeded or was not needed
  std::string response_decode_error;
};

}  // namespace llmtap::http
