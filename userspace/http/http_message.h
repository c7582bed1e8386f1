#pragma once
// One HTTP message as framed from a TLS connection's plaintext: the start line (HTTP/1.x) or
// pseudo-header fields (HTTP/2), the header fields as received, and the body with transfer
// coding or frames removed (content codings such as gzip are left alone; a later stage
// decodes them).

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::http {

// One header or trailer field: views into the HeaderFields that holds it (or, for a field
// made by hand, into what the caller keeps alive).
struct HttpHeader {
  std::string_view name;   // as received; compare with ascii_iequals
  std::string_view value;  // surrounding whitespace removed
  bool operator==(const HttpHeader&) const = default;
};

// A message's header (or trailer) fields, in order. Their names and values are copied into one
// buffer of the list and the fields are views into it: a message's fields cost one allocation
// or two instead of one per name or value longer than a short string. Copies and moves point
// the fields at their own buffer; fields are read-only.
class HeaderFields {
 public:
  using const_iterator = std::vector<HttpHeader>::const_iterator;

  HeaderFields() = default;
  HeaderFields(std::initializer_list<HttpHeader> fields);  // copies the bytes
  HeaderFields(const HeaderFields& other);
  HeaderFields(HeaderFields&& other) noexcept;
  HeaderFields& operator=(const HeaderFields& other);
  HeaderFields& operator=(HeaderFields&& other) noexcept;
  ~HeaderFields() = default;

  // Appends a field, copying its name and value.
  void add(std::string_view name, std::string_view value);
  void clear();

  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  const HttpHeader& operator[](size_t i) const { return fields_[i]; }
  const HttpHeader& front() const { return fields_.front(); }
  const HttpHeader& back() const { return fields_.back(); }
  const_iterator begin() const { return fields_.begin(); }
  const_iterator end() const { return fields_.end(); }
  // Bytes of names and values held.
  size_t text_bytes() const { return text_.size(); }

  bool operator==(const HeaderFields& other) const { return fields_ == other.fields_; }

 private:
  // After text_ took its bytes from a buffer at `old_base`: every field points into text_.
  void repoint(const char* old_base);

  std::string text_;
  std::vector<HttpHeader> fields_;
};

inline constexpr size_t kBodySlack = 64;

struct HttpMessage {
  bool is_request = false;
  // Requests: the request method. Responses: the method of the request this answers,
  // when the caller announced it with expect_response_to (empty otherwise).
  std::string method;
  std::string target;  // requests only
  int status = 0;      // responses only
  std::string reason;  // responses only
  int version_minor = 1;
  HeaderFields headers;
  HeaderFields trailers;  // chunked bodies (HTTP/1.1) and trailing HEADERS (HTTP/2) only
  // De-chunked, possibly cut to the body limit. A body of declared length is stored in one
  // allocation with at least kBodySlack bytes of capacity past its end (in-place JSON parsers
  // read up to 64 bytes beyond what they parse).
  std::string body;
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
std::optional<std::string_view> find_header(const HeaderFields& headers,
                                            std::string_view name);

}  // namespace llmtap::http
