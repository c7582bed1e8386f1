#pragma once
// Incremental HTTP/1.1 framer for one direction of a connection (RFC 9112). Bytes go in as
// they arrive, in pieces of any size; complete messages come out in order. Where a message
// is split never changes the result. Pure code: no I/O, no exceptions. Malformed input puts
// the parser in an error state (counted) that it leaves only through reset(). Memory stays
// bounded by the limits whatever sizes the peer declares.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/http_message.h"

namespace llmtap::http {

// Receives each message the moment it completes, before the parser reads on, so that the
// receiver sees messages and head filter calls in wire order whatever pieces the bytes came
// in. The parser's state is settled (the next message not begun) before each call.
class Http1MessageSink {
 public:
  virtual ~Http1MessageSink() = default;
  virtual void on_message(HttpMessage&& message) = 0;
};

class Http1StreamParser {
 public:
  enum class Role { kRequest, kResponse };
  struct Limits {
    size_t max_header_bytes = 64 * 1024;  // start line + headers; also the trailer section
    size_t max_headers = 256;             // also the trailer count
    size_t max_body_kept = 1 << 20;       // longer bodies are counted, not kept
  };
  // kOk: between messages (or passing a tunnel through). kNeedMore: inside a message.
  // kError: stopped on malformed input until reset().
  enum class State { kOk, kNeedMore, kError };

  // Two constructors rather than a default argument: a nested struct's member initializers
  // are not usable in the enclosing class's declarations.
  explicit Http1StreamParser(Role role);
  Http1StreamParser(Role role, Limits limits);

  // Request side: called once a request's header section is complete; returning false
  // means "do not keep this body" (it is still framed and counted in body_bytes).
  using KeepBodyFilter = std::function<bool(HttpMessage& head)>;
  void set_request_head_filter(KeepBodyFilter filter) { request_head_filter_ = std::move(filter); }

  // Feeds the next bytes of the stream; returns the messages they completed, in order.
  // `mono_ns` is the CLOCK_MONOTONIC time the bytes were captured (first_ns/last_ns).
  std::vector<HttpMessage> feed(std::string_view bytes) { return feed(bytes, 0); }
  std::vector<HttpMessage> feed(std::string_view bytes, uint64_t mono_ns);
  // As above, appending to `out` (no allocation when nothing completes).
  void feed(std::string_view bytes, uint64_t mono_ns, std::vector<HttpMessage>& out);
  // As above, handing each message to `out` as it completes.
  void feed(std::string_view bytes, uint64_t mono_ns, Http1MessageSink& out);

  // Response side: the method of the next request on the connection, in request order.
  // Responses to HEAD (and 2xx to CONNECT) have no body whatever their headers say.
  // With keep_body false the response's body is framed and counted but not stored.
  void expect_response_to(std::string_view method, bool keep_body = true);

  // The connection closed: returns the message that the close completes (a response with
  // no declared length). A close inside any other message is an error.
  std::optional<HttpMessage> finish();

  // Like finish(), but a message cut short by the close (its start line read) is returned
  // too, with complete == false, instead of being dropped.
  struct Finished {
    std::optional<HttpMessage> message;
    bool complete = false;
  };
  Finished finish_keeping_partial();

  // `n` bytes of the stream are missing here (the capture cut a call short). Inside a body
  // whose length is known (Content-Length, the current chunk) or that runs until close they
  // are counted as body bytes not kept, and framing goes on; returns false when the hole
  // cannot be crossed (the caller must give up on the stream). May complete a message.
  bool skip_body(uint64_t n, uint64_t mono_ns, std::vector<HttpMessage>& out);
  bool skip_body(uint64_t n, uint64_t mono_ns, Http1MessageSink& out);

  // Forgets the current message, the error and the expected methods; keeps the counters.
  void reset();

  // The stream stops being HTTP (accepted Upgrade or CONNECT seen from the other side):
  // further bytes are counted in ignored_bytes(). Responses 101 and 2xx-to-CONNECT do this
  // themselves.
  void enter_tunnel();

  State state() const;
  std::string_view error() const { return error_; }
  bool in_tunnel() const { return phase_ == Phase::kTunnel; }
  uint64_t messages() const { return messages_; }
  uint64_t errors() const { return errors_; }
  uint64_t ignored_bytes() const { return ignored_bytes_; }  // after an error or in a tunnel
  // Body bytes of the message in progress so far (progress on long or endless bodies).
  uint64_t current_body_bytes() const { return current_.body_bytes; }

  // Bounds the queue of expected methods if the caller never sees the responses.
  static constexpr size_t kMaxPendingMethods = 1024;
  // A chunk-size line is hex digits plus extensions; nothing legitimate needs more.
  static constexpr size_t kMaxChunkLineBytes = 4096;

 private:
  enum class Phase {
    kStartLine,
    kHeaders,
    kFixedBody,  // Content-Length bytes left in body_remaining_
    kChunkSize,
    kChunkData,     // chunk bytes left in body_remaining_
    kChunkDataEnd,  // the CRLF after a chunk's data
    kTrailers,
    kBodyUntilClose,
    kTunnel,
    kError,
  };
  enum class LineStatus { kIncomplete, kComplete, kTooLong };

  // Each consumes from the front of `in` and may complete a message into `out`.
  void step(std::string_view& in, Http1MessageSink& out);
  void step_start_line(std::string_view& in);
  void step_header_line(std::string_view& in, Http1MessageSink& out);
  void step_chunk_size_line(std::string_view& in);
  void step_chunk_data_end(std::string_view& in);
  void step_trailer_line(std::string_view& in, Http1MessageSink& out);
  void step_body_bytes(std::string_view& in, Http1MessageSink& out);

  // Takes bytes up to the next LF. On kComplete `line` is the line without its terminator and
  // line_wire_bytes_ its length on the wire: a view into `in` when the whole line is there (no
  // copy), else into line_, which gathers a line split across feeds (the caller clears it).
  // `max_len` counts the terminator and what line_ already holds.
  LineStatus take_line(std::string_view& in, size_t max_len, std::string_view& line);
  size_t header_budget() const;
  bool parse_request_line(std::string_view line);
  bool parse_status_line(std::string_view line);
  bool add_field(std::string_view line, HeaderFields& fields);
  void start_body(Http1MessageSink& out);
  void append_body(std::string_view bytes);
  // Ends the message in progress, goes on in `next`, then hands the message to `out`.
  void complete_message(Http1MessageSink& out, Phase next = Phase::kStartLine);
  void fail(std::string_view why);

  struct ExpectedResponse {
    std::string method;
    bool keep_body = true;
  };

  Role role_;
  Limits limits_;
  Phase phase_ = Phase::kStartLine;
  std::string line_;  // the line being assembled, bounded by the caller of take_line
  size_t line_wire_bytes_ = 0;
  HttpMessage current_;
  uint64_t body_remaining_ = 0;
  uint64_t trailer_bytes_ = 0;
  // Oldest first. A vector, not a deque: libstdc++'s deque allocates ~600 bytes even empty,
  // and most connections never have more than one entry.
  std::vector<ExpectedResponse> pending_methods_;
  KeepBodyFilter request_head_filter_;
  bool keep_body_ = true;       // of the message in progress
  uint64_t now_ns_ = 0;         // capture time of the bytes being fed
  uint64_t start_line_ns_ = 0;  // capture time of the first byte of line_ in kStartLine
  std::string_view error_;      // always a string literal
  uint64_t messages_ = 0;
  uint64_t errors_ = 0;
  uint64_t ignored_bytes_ = 0;
};

}  // namespace llmtap::http
