#include "http/http1_stream_parser.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "http/field_values.h"

namespace llmtap::http {
namespace {


bool is_digit(char c) { return c >= '0' && c <= '9'; }

// What each byte may be part of, one table lookup per byte of a header section.
enum ByteRole : uint8_t {
  kTokenByte = 1,      // RFC 9110 5.6.2 token characters
  kFieldTextByte = 2,  // field values, reason phrases: visible, SP, HTAB, obs-text
  kTargetByte = 4,     // request-target: no whitespace or controls
};

struct ByteRoles {
  uint8_t role[256] = {};
  constexpr ByteRoles() {
    for (int c = 0; c < 256; ++c) {
      const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      bool token = alnum;
      for (const char t : std::string_view("!#$%&'*+-.^_`|~")) token = token || c == t;
      role[c] = static_cast<uint8_t>((token ? kTokenByte : 0) |
                                     (c == '\t' || (c >= 0x20 && c != 0x7f) ? kFieldTextByte : 0) |
                                     (c > 0x20 && c != 0x7f ? kTargetByte : 0));
    }
  }
};
constexpr ByteRoles kByteRoles;

bool all_bytes(std::string_view s, ByteRole role) {
  for (const char c : s) {
    if ((kByteRoles.role[static_cast<unsigned char>(c)] & role) == 0) return false;
  }
  return true;
}

bool is_token(std::string_view s) { return !s.empty() && all_bytes(s, kTokenByte); }

// Field values and reason phrases: visible bytes, SP, HTAB and obs-text; never CR, LF, NUL.
// Eight bytes at a time: a word with no byte below 0x20 and none equal to 0x7F is all field
// text; a word that has one is looked at byte by byte (HTAB is allowed).
bool is_field_text(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    // Bytes below 0x20 (the high bits of w are set apart: obs-text is allowed), and 0x7F.
    const uint64_t low = (w & ~kHighs) - 0x20 * kOnes;
    const uint64_t del = (w ^ 0x7F * kOnes) - kOnes;
    if (((low | del) & ~w & kHighs) != 0 && !all_bytes(s.substr(i, 8), kFieldTextByte)) {
      return false;
    }
  }
  return all_bytes(s.substr(i), kFieldTextByte);
}

// request-target: no whitespace or controls, whatever form (origin, absolute, authority, *).
bool is_target(std::string_view s) { return !s.empty() && all_bytes(s, kTargetByte); }

// "HTTP/1.x" -> x; HTTP/2+ never arrives as text and HTTP/0.9 has no version.
std::optional<int> parse_version(std::string_view s) {
  if (s.size() != 8 || !s.starts_with("HTTP/1.") || !is_digit(s[7])) return std::nullopt;
  return s[7] - '0';
}

std::optional<uint64_t> hex_digit(char c) {
  if (is_digit(c)) return static_cast<uint64_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<uint64_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<uint64_t>(c - 'A' + 10);
  return std::nullopt;
}

enum class TransferCoding { kNone, kChunked, kOther, kInvalid };

// Only the final coding decides the framing; chunked anywhere but last is invalid.
TransferCoding transfer_coding(const HeaderFields& headers) {
  bool present = false;
  bool chunked_last = false;
  for (const HttpHeader& h : headers) {
    if (!ascii_iequals(h.name, "transfer-encoding")) continue;
    present = true;
    const bool ok = for_each_list_element(h.value, [&](std::string_view element) {
      const std::string_view coding = trim_ows(element.substr(0, element.find(';')));
      if (!is_token(coding) || chunked_last) return false;  // nothing may follow chunked
      chunked_last = ascii_iequals(coding, "chunked");
      return true;
    });
    if (!ok) return TransferCoding::kInvalid;
  }
  if (!present) return TransferCoding::kNone;
  return chunked_last ? TransferCoding::kChunked : TransferCoding::kOther;
}

// Appends to a vector: the interface of the callers that want the messages afterwards.
class AppendTo final : public Http1MessageSink {
 public:
  explicit AppendTo(std::vector<HttpMessage>& out) : out_(out) {}
  void on_message(HttpMessage&& message) override { out_.push_back(std::move(message)); }

 private:
  std::vector<HttpMessage>& out_;
};

}  // namespace

Http1StreamParser::Http1StreamParser(Role role) : Http1StreamParser(role, Limits{}) {}

Http1StreamParser::Http1StreamParser(Role role, Limits limits) : role_(role), limits_(limits) {}

std::vector<HttpMessage> Http1StreamParser::feed(std::string_view bytes, uint64_t mono_ns) {
  std::vector<HttpMessage> out;
  feed(bytes, mono_ns, out);
  return out;
}

void Http1StreamParser::feed(std::string_view bytes, uint64_t mono_ns,
                             std::vector<HttpMessage>& out) {
  AppendTo sink(out);
  feed(bytes, mono_ns, sink);
}

void Http1StreamParser::feed(std::string_view bytes, uint64_t mono_ns, Http1MessageSink& out) {
  now_ns_ = mono_ns;
  while (!bytes.empty()) step(bytes, out);
}

void Http1StreamParser::expect_response_to(std::string_view method, bool keep_body) {
  if (pending_methods_.size() >= kMaxPendingMethods)
    pending_methods_.erase(pending_methods_.begin());
  pending_methods_.push_back({std::string(method), keep_body});
}

std::optional<HttpMessage> Http1StreamParser::finish() {
  if (phase_ == Phase::kBodyUntilClose) {
    std::vector<HttpMessage> out;
    AppendTo sink(out);
    complete_message(sink);
    return std::move(out.front());
  }
  if (state() == State::kNeedMore) fail("connection closed inside a message");
  return std::nullopt;
}

Http1StreamParser::Finished Http1StreamParser::finish_keeping_partial() {
  if (phase_ == Phase::kBodyUntilClose) return {finish(), true};
  std::optional<HttpMessage> partial;
  if (phase_ != Phase::kStartLine && phase_ != Phase::kTunnel && phase_ != Phase::kError) {
    current_.last_ns = now_ns_;
    partial = std::move(current_);
  }
  finish();
  return {std::move(partial), false};
}

void Http1StreamParser::reset() {
  phase_ = Phase::kStartLine;
  line_.clear();
  current_ = {};
  body_remaining_ = 0;
  trailer_bytes_ = 0;
  pending_methods_.clear();
  keep_body_ = true;
  error_ = {};
}

void Http1StreamParser::enter_tunnel() {
  if (phase_ == Phase::kError) return;
  line_.clear();
  current_ = {};
  phase_ = Phase::kTunnel;
}

Http1StreamParser::State Http1StreamParser::state() const {
  switch (phase_) {
    case Phase::kError:
      return State::kError;
    case Phase::kTunnel:
      return State::kOk;
    case Phase::kStartLine:
      return line_.empty() ? State::kOk : State::kNeedMore;
    default:
      return State::kNeedMore;
  }
}

void Http1StreamParser::step(std::string_view& in, Http1MessageSink& out) {
  switch (phase_) {
    case Phase::kStartLine:
      return step_start_line(in);
    case Phase::kHeaders:
      return step_header_line(in, out);
    case Phase::kFixedBody:
    case Phase::kChunkData:
    case Phase::kBodyUntilClose:
      return step_body_bytes(in, out);
    case Phase::kChunkSize:
      return step_chunk_size_line(in);
    case Phase::kChunkDataEnd:
      return step_chunk_data_end(in);
    case Phase::kTrailers:
      return step_trailer_line(in, out);
    case Phase::kTunnel:
    case Phase::kError:
      ignored_bytes_ += in.size();
      in = {};
      return;
  }
}

Http1StreamParser::LineStatus Http1StreamParser::take_line(std::string_view& in, size_t max_len,
                                                           std::string_view& line) {
  const size_t lf = in.find('\n');
  const size_t segment = lf == std::string_view::npos ? in.size() : lf + 1;
  const size_t room = max_len > line_.size() ? max_len - line_.size() : 0;
  if (segment > room) {
    in.remove_prefix(room + 1);  // up to the byte that crossed the limit
    return LineStatus::kTooLong;
  }
  if (lf != std::string_view::npos && line_.empty()) {
    line = in.substr(0, lf);  // the whole line is here: no copy
  } else {
    line_.append(in.substr(0, segment));
    if (lf == std::string_view::npos) {
      in.remove_prefix(segment);
      return LineStatus::kIncomplete;
    }
    line = std::string_view(line_).substr(0, line_.size() - 1);
  }
  in.remove_prefix(segment);
  line_wire_bytes_ = line.size() + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF, or a lenient bare LF
  return LineStatus::kComplete;
}

size_t Http1StreamParser::header_budget() const {
  return limits_.max_header_bytes -
         std::min<uint64_t>(current_.header_bytes, limits_.max_header_bytes);
}

void Http1StreamParser::step_start_line(std::string_view& in) {
  if (line_.empty()) start_line_ns_ = now_ns_;
  std::string_view line;
  const LineStatus status = take_line(in, header_budget(), line);
  if (status == LineStatus::kTooLong) return fail("header section too large");
  if (status == LineStatus::kIncomplete) return;
  // RFC 9112 2.2: empty lines before a start line (stray CRLF after a body) are ignored.
  if (!line.empty()) {
    current_.header_bytes += line_wire_bytes_;
    current_.wire_bytes += line_wire_bytes_;
    current_.first_ns = start_line_ns_;
    const bool ok = role_ == Role::kRequest ? parse_request_line(line) : parse_status_line(line);
    if (!ok) return;
    phase_ = Phase::kHeaders;
  }
  line_.clear();
}

void Http1StreamParser::step_header_line(std::string_view& in, Http1MessageSink& out) {
  std::string_view line;
  const LineStatus status = take_line(in, header_budget(), line);
  if (status == LineStatus::kTooLong) return fail("header section too large");
  if (status == LineStatus::kIncomplete) return;
  current_.header_bytes += line_wire_bytes_;
  current_.wire_bytes += line_wire_bytes_;
  if (line.empty()) {
    start_body(out);
  } else if (!add_field(line, current_.headers)) {
    return;
  }
  line_.clear();
}

void Http1StreamParser::step_chunk_size_line(std::string_view& in) {
  std::string_view line;
  const LineStatus status = take_line(in, kMaxChunkLineBytes, line);
  if (status == LineStatus::kTooLong) return fail("chunk size line too long");
  if (status == LineStatus::kIncomplete) return;
  current_.wire_bytes += line_wire_bytes_;
  // chunk-size [BWS] *( ";" chunk-ext ): extensions carry nothing we need, so only validated.
  std::string_view rest = line;
  uint64_t size = 0;
  size_t digits = 0;
  for (; digits < rest.size(); ++digits) {
    const std::optional<uint64_t> d = hex_digit(rest[digits]);
    if (!d) break;
    if (size > (std::numeric_limits<uint64_t>::max() >> 4)) return fail("chunk size overflows");
    size = (size << 4) | *d;
  }
  rest.remove_prefix(digits);
  rest = trim_ows(rest);
  if (digits == 0 || (!rest.empty() && rest.front() != ';') || !is_field_text(rest)) {
    return fail("invalid chunk size line");
  }
  line_.clear();
  if (size == 0) {
    trailer_bytes_ = 0;
    phase_ = Phase::kTrailers;
  } else {
    body_remaining_ = size;
    phase_ = Phase::kChunkData;
  }
}

void Http1StreamParser::step_chunk_data_end(std::string_view& in) {
  std::string_view line;
  const LineStatus status = take_line(in, 2, line);
  if (status == LineStatus::kIncomplete) return;
  if (status == LineStatus::kTooLong || !line.empty())
    return fail("chunk data longer than its size");
  current_.wire_bytes += line_wire_bytes_;
  line_.clear();
  phase_ = Phase::kChunkSize;
}

void Http1StreamParser::step_trailer_line(std::string_view& in, Http1MessageSink& out) {
  const size_t budget =
      limits_.max_header_bytes - std::min<uint64_t>(trailer_bytes_, limits_.max_header_bytes);
  std::string_view line;
  const LineStatus status = take_line(in, budget, line);
  if (status == LineStatus::kTooLong) return fail("trailer section too large");
  if (status == LineStatus::kIncomplete) return;
  trailer_bytes_ += line_wire_bytes_;
  current_.wire_bytes += line_wire_bytes_;
  if (line.empty()) {
    line_.clear();
    return complete_message(out);
  }
  if (add_field(line, current_.trailers)) line_.clear();
}

void Http1StreamParser::step_body_bytes(std::string_view& in, Http1MessageSink& out) {
  if (phase_ == Phase::kBodyUntilClose) {
    append_body(in);
    in = {};
    return;
  }
  const size_t n = static_cast<size_t>(std::min<uint64_t>(body_remaining_, in.size()));
  append_body(in.substr(0, n));
  in.remove_prefix(n);
  body_remaining_ -= n;
  if (body_remaining_ > 0) return;
  if (phase_ == Phase::kChunkData) {
    phase_ = Phase::kChunkDataEnd;
  } else {
    complete_message(out);
  }
}

bool Http1StreamParser::parse_request_line(std::string_view line) {
  // method SP request-target SP HTTP-version, single spaces (RFC 9112 3).
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return fail("invalid request line"), false;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::optional<int> minor = parse_version(line.substr(sp2 + 1));
  if (!is_token(method) || !is_target(target) || !minor) {
    return fail("invalid request line"), false;
  }
  current_.is_request = true;
  current_.method = method;
  current_.target = target;
  current_.version_minor = *minor;
  return true;
}

bool Http1StreamParser::parse_status_line(std::string_view line) {
  // HTTP-version SP 3DIGIT SP [reason]; a missing final SP is tolerated (common in the wild).
  const std::optional<int> minor = parse_version(line.substr(0, 8));
  const bool shape_ok = minor && line.size() >= 12 && line[8] == ' ' && is_digit(line[9]) &&
                        is_digit(line[10]) && is_digit(line[11]) &&
                        (line.size() == 12 || line[12] == ' ');
  const std::string_view reason = line.size() > 13 ? line.substr(13) : std::string_view{};
  if (!shape_ok || line[9] == '0' || !is_field_text(reason)) {
    return fail("invalid status line"), false;
  }
  current_.is_request = false;
  current_.version_minor = *minor;
  current_.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  current_.reason = reason;
  return true;
}

bool Http1StreamParser::add_field(std::string_view line, HeaderFields& fields) {
  // Obsolete line folding is a known smuggling vector; RFC 9112 5.2 lets us reject it.
  if (line.front() == ' ' || line.front() == '\t') return fail("obsolete line folding"), false;
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
    return fail("invalid header field"), false;
  }
  const std::string_view value = trim_ows(line.substr(colon + 1));
  if (!is_field_text(value)) return fail("invalid header field value"), false;
  if (fields.size() >= limits_.max_headers) return fail("too many header fields"), false;
  fields.add(line.substr(0, colon), value);
  return true;
}

// RFC 9112 6.3, in order: the request method and status first, then Transfer-Encoding,
// then Content-Length, then the role's default.
void Http1StreamParser::start_body(Http1MessageSink& out) {
  if (role_ == Role::kRequest) {
    keep_body_ = !request_head_filter_ || request_head_filter_(current_);
    current_.body_skipped = !keep_body_;
  } else {
    const int status = current_.status;
    const bool final = status >= 200 || status == 101;  // other 1xx precede the real answer
    keep_body_ = true;
    if (!pending_methods_.empty()) {
      current_.method = pending_methods_.front().method;
      keep_body_ = pending_methods_.front().keep_body;
      if (final) pending_methods_.erase(pending_methods_.begin());
    }
    current_.body_skipped = !keep_body_;
    const bool connect_ok = current_.method == "CONNECT" && status >= 200 && status < 300;
    if (status == 101 || connect_ok) {  // the connection stops speaking HTTP
      return complete_message(out, Phase::kTunnel);
    }
    if (status < 200 || status == 204 || status == 304 || current_.method == "HEAD") {
      return complete_message(out);
    }
  }

  switch (transfer_coding(current_.headers)) {
    case TransferCoding::kInvalid:
      return fail("invalid transfer-encoding");
    case TransferCoding::kChunked:
      if (current_.version_minor == 0) return fail("transfer-encoding in HTTP/1.0");
      phase_ = Phase::kChunkSize;  // chunked wins over any Content-Length
      return;
    case TransferCoding::kOther:
      if (current_.version_minor == 0) return fail("transfer-encoding in HTTP/1.0");
      if (role_ == Role::kRequest) return fail("request transfer-encoding not ending in chunked");
      phase_ = Phase::kBodyUntilClose;
      return;
    case TransferCoding::kNone:
      break;
  }

  const ContentLength length = content_length(current_.headers);
  if (!length.valid) return fail("invalid content-length");
  if (length.present && length.value > 0) {
    body_remaining_ = length.value;  // a counter only: nothing is reserved for it
    phase_ = Phase::kFixedBody;
  } else if (length.present || role_ == Role::kRequest) {
    complete_message(out);
  } else {
    phase_ = Phase::kBodyUntilClose;
  }
}

bool Http1StreamParser::skip_body(uint64_t n, uint64_t mono_ns, std::vector<HttpMessage>& out) {
  AppendTo sink(out);
  return skip_body(n, mono_ns, sink);
}

bool Http1StreamParser::skip_body(uint64_t n, uint64_t mono_ns, Http1MessageSink& out) {
  const bool known_length = phase_ == Phase::kFixedBody || phase_ == Phase::kChunkData;
  if (phase_ != Phase::kBodyUntilClose && !(known_length && n <= body_remaining_)) return false;
  now_ns_ = mono_ns;
  current_.body_bytes += n;
  current_.wire_bytes += n;
  if (keep_body_) current_.body_truncated = true;  // the kept body has a hole: only its prefix
  if (phase_ == Phase::kBodyUntilClose) return true;
  body_remaining_ -= n;
  if (body_remaining_ == 0) {
    if (phase_ == Phase::kChunkData) {
      phase_ = Phase::kChunkDataEnd;
    } else {
      complete_message(out);
    }
  }
  return true;
}

void Http1StreamParser::append_body(std::string_view bytes) {
  current_.body_bytes += bytes.size();
  current_.wire_bytes += bytes.size();
  if (!keep_body_) return;
  const size_t room = limits_.max_body_kept - std::min(current_.body.size(), limits_.max_body_kept);
  const size_t kept = std::min(room, bytes.size());
  if (current_.body.empty() && phase_ == Phase::kFixedBody && kept > 0) {
    // The declared length at once (up to the limit), not a doubling per piece: a 1 MiB body
    // written 16 KiB at a time was copied seven times over. Only once bytes come: what a
    // header claims alone takes nothing, and pages are only backed as they are written.
    current_.body.reserve(std::min<uint64_t>(body_remaining_, limits_.max_body_kept) + kBodySlack);
  }
  current_.body.append(bytes.substr(0, kept));
  if (kept < bytes.size()) current_.body_truncated = true;
}

void Http1StreamParser::complete_message(Http1MessageSink& out, Phase next) {
  ++messages_;
  current_.last_ns = now_ns_;
  keep_body_ = true;
  body_remaining_ = 0;
  phase_ = next;
  out.on_message(std::move(current_));
  current_ = {};
}

void Http1StreamParser::fail(std::string_view why) {
  ++errors_;
  error_ = why;
  phase_ = Phase::kError;
  line_.clear();
  current_ = {};  // drop the partial message and its memory
}

}  // namespace llmtap::http
