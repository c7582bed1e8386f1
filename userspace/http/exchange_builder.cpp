#include "http/exchange_builder.h"

#include <utility>

#include "http/content_decoder.h"

namespace llmtap::http {
namespace {

// Replaces the body by its decoded form; returns the Content-Encoding value and any error.
void decode_body(HttpMessage& m, size_t max_decoded_body, std::string& encoding, std::string& error,
                 HttpConnectionStats& stats) {
  const std::optional<std::string_view> value = header(m, "content-encoding");
  if (!value || is_identity_encoding(*value)) return;
  encoding = *value;
  if (m.body_skipped || m.body.empty()) return;
  DecodedContent decoded = decode_content(m.body, encoding, max_decoded_body, m.body_truncated);
  m.body = std::move(decoded.bytes);
  m.body_truncated = decoded.truncated;
  error = std::move(decoded.error);
  if (!error.empty()) ++stats.decode_errors;
}

}  // namespace

HttpExchange build_exchange(HttpVersion version, HttpMessage request,
                            std::optional<HttpMessage> response, bool incomplete,
                            size_t max_decoded_body, HttpConnectionStats& stats) {
  HttpExchange x;
  x.version = version;
  x.stream_id = request.stream_id;
  x.request_first_ns = request.first_ns;
  x.request_last_ns = request.last_ns;
  x.request_wire_bytes = request.wire_bytes;
  decode_body(request, max_decoded_body, x.request_content_encoding, x.request_decode_error, stats);
  x.request = std::move(request);
  if (response) {
    x.has_response = true;
    x.response_first_ns = response->first_ns;
    x.response_last_ns = response->last_ns;
    x.response_wire_bytes = response->wire_bytes;
    if (response->method.empty()) response->method = x.request.method;
    decode_body(*response, max_decoded_body, x.response_content_encoding, x.response_decode_error,
                stats);
    x.response = std::move(*response);
  } else {
    ++stats.unanswered_requests;
  }
  x.response_incomplete = incomplete;
  if (incomplete) ++stats.incomplete_exchanges;
  ++stats.exchanges;
  return x;
}

}  // namespace llmtap::http
