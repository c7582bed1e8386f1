#pragma once
// Turns a paired request and response into the HttpExchange the next stage reads: copies the
// timings and wire sizes out of the messages and undoes each body's content coding.

#include <cstddef>
#include <optional>

#include "http/http_connection_options.h"
#include "http/http_exchange.h"
#include "http/http_message.h"

namespace llmtap::http {

// `incomplete`: the connection (or a reset) ended the exchange before the response ended.
HttpExchange build_exchange(HttpVersion version, HttpMessage request,
                            std::optional<HttpMessage> response, bool incomplete,
                            size_t max_decoded_body, HttpConnectionStats& stats);

}  // namespace llmtap::http
