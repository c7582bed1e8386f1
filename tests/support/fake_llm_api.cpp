#include "fake_llm_api.h"

#include <charconv>
#include <optional>

namespace llmtap::testing {
namespace {

constexpr std::string_view kCompletionPrefix =
    R"({"id":"chatcmpl-test","object":"chat.completion","model":"gpt-4o-mini",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":")";
constexpr std::string_view kCompletionContent = "Hello from the llmtap test server.";
constexpr std::string_view kCompletionSuffix =
    R"("},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":5,)"
    R"("total_tokens":17}})";
constexpr std::string_view kModelList =
    R"({"object":"list","data":[{"id":"gpt-4o-mini","object":"model","owned_by":"llmtap"}]})";

// 62 is not a divisor of TLS record or page sizes, so a dropped or duplicated chunk of a
// capture shifts the pattern and shows up in byte-exact comparisons.
constexpr std::string_view kPaddingAlphabet =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

void append_padding(std::string& out, size_t count) {
  for (; count >= kPaddingAlphabet.size(); count -= kPaddingAlphabet.size()) {
    out.append(kPaddingAlphabet);
  }
  out.append(kPaddingAlphabet.substr(0, count));
}

std::string json_error(std::string_view message) {
  std::string body = R"({"error":{"message":")";
  for (char c : message) {
    if (c == '"' || c == '\\') body += '\\';
    body += c;
  }
  body += R"(","type":"invalid_request_error"}})";
  return body;
}

HttpResponse make_response(std::string_view status, std::string_view body, bool close_after) {
  HttpResponse response;
  response.close_after = close_after;
  std::string& out = response.bytes;
  out.reserve(body.size() + 160);
  out.append("HTTP/1.1 ").append(status).append("\r\n");
  out.append("Content-Type: application/json\r\n");
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append(close_after ? "Connection: close\r\n" : "Connection: keep-alive\r\n");
  out.append("\r\n").append(body);
  return response;
}

// Body size asked for with `x-response-bytes` (0 when absent); nullopt when invalid.
std::optional<size_t> requested_body_size(const HttpRequest& request) {
  const std::string_view value = request.header("x-response-bytes").value_or("0");
  size_t size = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), size);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() ||
      size > kMaxResponseBodyBytes) {
    return std::nullopt;
  }
  return size;
}

}  // namespace

size_t minimal_chat_completion_body_size() {
  return kCompletionPrefix.size() + kCompletionContent.size() + kCompletionSuffix.size();
}

std::string chat_completion_body(size_t size) {
  const size_t padding =
      size > minimal_chat_completion_body_size() ? size - minimal_chat_completion_body_size() : 0;
  std::string body;
  body.reserve(minimal_chat_completion_body_size() + padding);
  body.append(kCompletionPrefix).append(kCompletionContent);
  append_padding(body, padding);
  body.append(kCompletionSuffix);
  return body;
}

HttpResponse respond_to(const HttpRequest& request) {
  const bool close_after = request.wants_close();
  if (request.method == "GET") return make_response("200 OK", kModelList, close_after);
  if (request.method != "POST") {
    return make_response("405 Method Not Allowed", json_error("method not allowed"), close_after);
  }
  const std::optional<size_t> size = requested_body_size(request);
  if (!size) return bad_request_response("invalid x-response-bytes");
  return make_response("200 OK", chat_completion_body(*size), close_after);
}

HttpResponse bad_request_response(std::string_view reason) {
  return make_response("400 Bad Request", json_error(reason), /*close_after=*/true);
}

}  // namespace llmtap::testing
