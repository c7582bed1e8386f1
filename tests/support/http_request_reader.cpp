#include "http_request_reader.h"

#include <algorithm>
#include <charconv>
#include <utility>

namespace llmtap::testing {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr size_t kMaxLineBytes = size_t{8} * 1024;  // chunk-size and trailer lines

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

std::string_view trim(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 9110 "tchar": what may appear in a method or header name.
bool is_token(std::string_view s) {
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::ranges::all_of(s, [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kExtra.find(c) != std::string_view::npos;
  });
}

// Whether the comma-separated list `value` contains `token` (case-insensitive).
bool has_list_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

template <typename T>
std::optional<T> parse_number(std::string_view s, int base) {
  T value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// Splits "METHOD SP TARGET SP VERSION" into `request`; false when malformed.
bool parse_request_line(std::string_view line, HttpRequest& request) {
  const size_t first = line.find(' ');
  const size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos) return false;
  request.method = line.substr(0, first);
  request.target = line.substr(first + 1, second - first - 1);
  request.version = line.substr(second + 1);
  return is_token(request.method) && !request.target.empty() &&
         request.target.find(' ') == std::string::npos &&
         (request.version == "HTTP/1.1" || request.version == "HTTP/1.0");
}

bool parse_header_line(std::string_view line, HttpRequest& request) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view name = line.substr(0, colon);
  // A name ending in whitespace or a line starting with it (obsolete folding) is rejected.
  if (!is_token(name)) return false;
  request.headers.push_back({std::string(name), std::string(trim(line.substr(colon + 1)))});
  return true;
}

}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

bool HttpRequest::wants_close() const {
  bool close = false;
  bool keep_alive = false;
  for (const HttpHeader& h : headers) {
    if (!iequals(h.name, "connection")) continue;
    close = close || has_list_token(h.value, "close");
    keep_alive = keep_alive || has_list_token(h.value, "keep-alive");
  }
  if (close) return true;
  return version == "HTTP/1.0" && !keep_alive;  // HTTP/1.0 is close-by-default
}

void HttpRequestReader::feed(std::string_view bytes) {
  // Body bytes are consumed as they arrive, so the kept prefix is at most a partial line/head.
  if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(bytes);
}

HttpRequestReader::Result HttpRequestReader::next(HttpRequest& request) {
  for (;;) {
    switch (step()) {
      case Step::kAdvanced:
        continue;
      case Step::kNeedMore:
        return Result::kNeedMore;
      case Step::kMalformed:
        return Result::kMalformed;
      case Step::kComplete:
        request = std::exchange(current_, HttpRequest{});
        state_ = State::kHead;
        return Result::kComplete;
    }
  }
}

HttpRequestReader::Step HttpRequestReader::step() {
  switch (state_) {
    case State::kHead:
      return parse_head();
    case State::kBody:
      return read_body();
    case State::kChunkSize:
      return read_chunk_size();
    case State::kChunkData:
      return read_chunk_data();
    case State::kChunkDataEnd:
      return read_chunk_data_end();
    case State::kTrailer:
      return read_trailer();
    case State::kFailed:
      break;
  }
  return Step::kMalformed;
}

HttpRequestReader::Step HttpRequestReader::parse_head() {
  // Robustness (RFC 9112 section 2.2): ignore empty lines before the request line.
  while (std::string_view(buffer_).substr(pos_, 2) == kCrlf) pos_ += 2;

  const size_t end = buffer_.find("\r\n\r\n", pos_);
  if (end == std::string::npos) {
    if (buffer_.size() - pos_ > kMaxHeadBytes) return fail("request head too large");
    return Step::kNeedMore;
  }
  std::string_view head = std::string_view(buffer_).substr(pos_, end + 2 - pos_);
  pos_ = end + 4;

  const size_t line_end = head.find(kCrlf);
  if (!parse_request_line(head.substr(0, line_end), current_)) {
    return fail("malformed request line");
  }
  head.remove_prefix(line_end + 2);
  while (!head.empty()) {
    const size_t eol = head.find(kCrlf);
    if (!parse_header_line(head.substr(0, eol), current_)) return fail("malformed header line");
    head.remove_prefix(eol + 2);
  }
  return choose_body_framing();
}

HttpRequestReader::Step HttpRequestReader::choose_body_framing() {
  std::optional<std::string_view> transfer_encoding;
  std::optional<std::string_view> content_length;
  for (const HttpHeader& h : current_.headers) {
    if (iequals(h.name, "transfer-encoding")) {
      if (transfer_encoding) return fail("repeated Transfer-Encoding");
      transfer_encoding = h.value;
    } else if (iequals(h.name, "content-length")) {
      if (content_length && *content_length != h.value) return fail("conflicting Content-Length");
      content_length = h.value;
    }
  }
  if (transfer_encoding) {
    // Both framings at once is a request-smuggling shape; reject rather than guess.
    if (content_length) return fail("both Transfer-Encoding and Content-Length");
    if (!iequals(*transfer_encoding, "chunked")) return fail("unsupported Transfer-Encoding");
    state_ = State::kChunkSize;
    return Step::kAdvanced;
  }
  if (!content_length) return Step::kComplete;
  const auto length = parse_number<size_t>(*content_length, 10);
  if (!length) return fail("invalid Content-Length");
  if (*length > kMaxBodyBytes) return fail("Content-Length too large");
  remaining_ = *length;
  current_.body.reserve(remaining_);
  state_ = State::kBody;
  return remaining_ == 0 ? Step::kComplete : Step::kAdvanced;
}

HttpRequestReader::Step HttpRequestReader::read_body() {
  const size_t n = std::min(remaining_, buffer_.size() - pos_);
  current_.body.append(buffer_, pos_, n);
  pos_ += n;
  remaining_ -= n;
  return remaining_ == 0 ? Step::kComplete : Step::kNeedMore;
}

HttpRequestReader::Step HttpRequestReader::read_chunk_size() {
  const std::optional<std::string_view> line = take_line();
  if (!line) {
    return buffer_.size() - pos_ > kMaxLineBytes ? fail("chunk-size line too long")
                                                 : Step::kNeedMore;
  }
  // Chunk extensions (";name=value") carry nothing we need.
  const std::string_view digits = trim(line->substr(0, line->find(';')));
  const auto size = parse_number<size_t>(digits, 16);
  if (!size) return fail("invalid chunk size");
  if (*size > kMaxBodyBytes - current_.body.size()) return fail("chunked body too large");
  remaining_ = *size;
  state_ = remaining_ == 0 ? State::kTrailer : State::kChunkData;
  return Step::kAdvanced;
}

HttpRequestReader::Step HttpRequestReader::read_chunk_data() {
  const size_t n = std::min(remaining_, buffer_.size() - pos_);
  current_.body.append(buffer_, pos_, n);
  pos_ += n;
  remaining_ -= n;
  if (remaining_ > 0) return Step::kNeedMore;
  state_ = State::kChunkDataEnd;
  return Step::kAdvanced;
}

HttpRequestReader::Step HttpRequestReader::read_chunk_data_end() {
  if (buffer_.size() - pos_ < kCrlf.size()) return Step::kNeedMore;
  if (std::string_view(buffer_).substr(pos_, 2) != kCrlf) return fail("chunk data without CRLF");
  pos_ += 2;
  state_ = State::kChunkSize;
  return Step::kAdvanced;
}

HttpRequestReader::Step HttpRequestReader::read_trailer() {
  // Trailer fields are accepted and dropped; an empty line ends the message.
  while (const std::optional<std::string_view> line = take_line()) {
    if (line->empty()) return Step::kComplete;
  }
  return buffer_.size() - pos_ > kMaxLineBytes ? fail("trailer line too long") : Step::kNeedMore;
}

HttpRequestReader::Step HttpRequestReader::fail(std::string message) {
  state_ = State::kFailed;
  error_ = std::move(message);
  return Step::kMalformed;
}

std::optional<std::string_view> HttpRequestReader::take_line() {
  const size_t eol = buffer_.find(kCrlf, pos_);
  if (eol == std::string::npos) return std::nullopt;
  std::string_view line = std::string_view(buffer_).substr(pos_, eol - pos_);
  pos_ = eol + 2;
  return line;
}

}  // namespace llmtap::testing
