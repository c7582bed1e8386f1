// What the test server answers: OpenAI chat-completions-shaped HTTP responses.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "http_request_reader.h"

namespace llmtap::testing {

// Largest body a request may ask for with `x-response-bytes`.
inline constexpr size_t kMaxResponseBodyBytes = size_t{64} * 1024 * 1024;

struct HttpResponse {
  std::string bytes;  // status line, headers and body, ready to write
  bool close_after = false;
  // Written after `bytes`, each in its own write after `part_delay`: a streamed response.
  std::vector<std::string> parts;
  std::chrono::milliseconds part_delay{0};
};

// A chat.completion JSON object padded (inside the message content) to exactly `size` bytes,
// or the minimal object when `size` is smaller than that.
std::string chat_completion_body(size_t size);
size_t minimal_chat_completion_body_size();

// POST -> chat completion (sized by `x-response-bytes`), GET -> model list, else 405.
// A bad `x-response-bytes` value gets a 400 that closes the connection.
HttpResponse respond_to(const HttpRequest& request);

// 400 for a request that could not be framed; always closes the connection.
HttpResponse bad_request_response(std::string_view reason);

}  // namespace llmtap::testing
