// Incremental HTTP/1.x request framing for the test server.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::testing {

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method;
  std::string target;
  std::string version;  // "HTTP/1.0" or "HTTP/1.1"
  std::vector<HttpHeader> headers;
  std::string body;  // de-chunked when the request used Transfer-Encoding: chunked

  // Value of the first header named `name` (case-insensitive), if present.
  std::optional<std::string_view> header(std::string_view name) const;
  // Whether the connection must be closed after responding (RFC 9112 section 9.3).
  bool wants_close() const;
};

// Frames requests out of a byte stream. Feed bytes as they arrive, then call next() until it
// stops returning kComplete; several pipelined requests may come out of one feed().
class HttpRequestReader {
 public:
  enum class Result { kNeedMore, kComplete, kMalformed };

  static constexpr size_t kMaxHeadBytes = size_t{64} * 1024;
  static constexpr size_t kMaxBodyBytes = size_t{256} * 1024 * 1024;

  void feed(std::string_view bytes);
  // On kComplete moves the request into `request`. kMalformed is sticky; see error().
  Result next(HttpRequest& request);
  const std::string& error() const { return error_; }

 private:
  enum class State { kHead, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailer, kFailed };
  // Outcome of one state handler; kAdvanced means "state changed, run the next handler".
  enum class Step { kNeedMore, kAdvanced, kComplete, kMalformed };

  Step step();
  Step parse_head();
  Step choose_body_framing();
  Step read_body();
  Step read_chunk_size();
  Step read_chunk_data();
  Step read_chunk_data_end();
  Step read_trailer();
  Step fail(std::string message);
  // Next CRLF-terminated line of unconsumed input (without CRLF), consuming it.
  std::optional<std::string_view> take_line();

  std::string buffer_;
  size_t pos_ = 0;  // first unconsumed byte of buffer_
  State state_ = State::kHead;
  size_t remaining_ = 0;  // body or chunk bytes still expected
  HttpRequest current_;
  std::string error_;
};

}  // namespace llmtap::testing
