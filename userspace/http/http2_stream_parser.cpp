#include "http/http2_stream_parser.h"

#include <algorithm>
#include <charconv>

#include "common/wire_text.h"
#include "http/field_values.h"

namespace llmtap::http {
namespace {

constexpr uint16_t kSettingsHeaderTableSize = 0x1;
constexpr size_t kSettingBytes = 6;
constexpr size_t kRetainedBlockBytes = 16 * 1024;

// Strips the Pad Length field and the padding (RFC 9113 6.1); false if they do not fit.
bool strip_padding(const Http2FrameHeader& frame, std::string_view& payload) {
  if ((frame.flags & h2::kPadded) == 0) return true;
  if (payload.empty()) return false;
  const auto pad = static_cast<uint8_t>(payload.front());
  payload.remove_prefix(1);
  if (pad > payload.size()) return false;
  payload.remove_suffix(pad);
  return true;
}

}  // namespace

Http2StreamParser::Http2StreamParser(Side side) : Http2StreamParser(side, Limits{}) {}

Http2StreamParser::Http2StreamParser(Side side, Limits limits)
    : side_(side), limits_(limits), reader_(side == Side::kClient, limits.max_header_block_bytes) {}

void Http2StreamParser::feed(std::string_view bytes, uint64_t mono_ns, Http2OutputSink& out) {
  out_ = &out;
  now_ns_ = mono_ns;
  reader_.feed(bytes, mono_ns, *this);
  out_ = nullptr;
}

void Http2StreamParser::on_peer_settings(std::optional<uint32_t> header_table_size) {
  if (pending_settings_.size() >= kMaxPendingSettings) {
    if (pending_settings_.front()) apply_table_size(*pending_settings_.front());
    pending_settings_.erase(pending_settings_.begin());
  }
  pending_settings_.push_back(header_table_size);
}

std::optional<HttpMessage> Http2StreamParser::abort_stream(uint32_t stream_id) {
  const auto it = streams_.find(stream_id);
  if (it == streams_.end()) return std::nullopt;
  std::optional<HttpMessage> partial;
  open_body_bytes_ -= it->second.message.body.size();
  if (it->second.headers_done) partial = std::move(it->second.message);
  streams_.erase(it);
  return partial;
}

std::vector<HttpMessage> Http2StreamParser::take_open_streams() {
  std::vector<HttpMessage> open;
  for (auto& [id, stream] : streams_) {
    if (stream.headers_done) open.push_back(std::move(stream.message));
  }
  streams_.clear();
  open_body_bytes_ = 0;
  return open;
}

// As HTTP/1.1 does for a declared length: the body's first DATA frame reserves what the
// content-length header announces (up to `cap`, plus kBodySlack), so a body of 16 KiB frames
// is not copied at each doubling. A length that is absent or invalid reserves nothing.
void Http2StreamParser::reserve_declared_body(HttpMessage& m, size_t cap) {
  const ContentLength declared = content_length(m.headers);
  if (!declared.present || !declared.valid) return;
  m.body.reserve(std::min<uint64_t>(declared.value, cap) + kBodySlack);
}

void Http2StreamParser::on_data(const Http2FrameHeader& frame, std::string_view data) {
  const auto it = streams_.find(frame.stream_id);
  if (it == streams_.end() || !it->second.headers_done) {
    orphan_data_bytes_ += data.size();
    return;
  }
  HttpMessage& m = it->second.message;
  m.body_bytes += data.size();
  if (!it->second.keep_body) return;
  const size_t room = limits_.max_body_kept - std::min(m.body.size(), limits_.max_body_kept);
  const size_t budget =
      limits_.max_open_body_kept - std::min(open_body_bytes_, limits_.max_open_body_kept);
  const size_t kept = std::min({room, budget, data.size()});
  if (m.body.empty() && kept > 0) reserve_declared_body(m, std::min(room, budget));
  m.body.append(data.substr(0, kept));
  open_body_bytes_ += kept;
  if (kept < data.size()) {
    if (budget < room && !m.body_truncated) ++bodies_over_budget_;
    m.body_truncated = true;
  }
}

void Http2StreamParser::on_frame(const Http2FrameHeader& frame, std::string_view payload) {
  if (reader_.failed()) return;
  // RFC 9113 6.10: a header block's frames are contiguous on the connection.
  if (block_.stream_id != 0 &&
      (frame.type != h2::kContinuation || frame.stream_id != block_.stream_id)) {
    return fail("header block interrupted");
  }
  const bool on_stream_zero = frame.stream_id == 0;
  switch (frame.type) {
    case h2::kData:
      if (on_stream_zero) return fail("DATA on stream 0");
      return on_data_end(frame);
    case h2::kHeaders:
    case h2::kPushPromise:
      if (on_stream_zero) return fail("header block on stream 0");
      return on_header_frame(frame, payload);
    case h2::kContinuation:
      if (block_.stream_id == 0) return fail("CONTINUATION without a header block");
      return on_continuation(frame, payload);
    case h2::kRstStream:
      if (on_stream_zero || payload.size() != 4) return fail("malformed RST_STREAM");
      return on_rst_stream(frame, payload);
    case h2::kSettings:
      if (!on_stream_zero) return fail("SETTINGS on a stream");
      return on_settings(frame, payload);
    case h2::kPing:
      if (!on_stream_zero || payload.size() != 8) return fail("malformed PING");
      return;
    case h2::kGoaway:
      if (!on_stream_zero || frame.length < 8) return fail("malformed GOAWAY");
      return;
    case h2::kWindowUpdate:
      if (payload.size() != 4) return fail("malformed WINDOW_UPDATE");
      return;
    case h2::kPriority:
      if (on_stream_zero || payload.size() != 5) return fail("malformed PRIORITY");
      return;
    default:
      return;  // extension frames are ignored (RFC 9113 5.5)
  }
}

void Http2StreamParser::on_data_end(const Http2FrameHeader& frame) {
  const auto it = streams_.find(frame.stream_id);
  if (it == streams_.end() || !it->second.headers_done) return;
  HttpMessage& m = it->second.message;
  m.wire_bytes += h2::kFrameHeaderBytes + frame.length;
  m.last_ns = now_ns_;
  if ((frame.flags & h2::kEndStream) != 0) end_stream(it);
}

void Http2StreamParser::on_header_frame(const Http2FrameHeader& frame, std::string_view payload) {
  if (!strip_padding(frame, payload)) return fail("padding longer than the frame");
  if (frame.type == h2::kPushPromise) {
    if (payload.size() < 4) return fail("malformed PUSH_PROMISE");
    payload.remove_prefix(4);  // promised stream id
  } else if ((frame.flags & h2::kPriorityFlag) != 0) {
    if (payload.size() < 5) return fail("malformed HEADERS priority");
    payload.remove_prefix(5);  // stream dependency and weight
  }
  block_.stream_id = frame.stream_id;
  block_.type = frame.type;
  block_.end_stream = frame.type == h2::kHeaders && (frame.flags & h2::kEndStream) != 0;
  block_.first_ns = frame.first_ns;
  block_.wire_bytes = h2::kFrameHeaderBytes + frame.length;
  block_.fragment.assign(payload);
  if ((frame.flags & h2::kEndHeaders) != 0) finish_header_block();
}

void Http2StreamParser::on_continuation(const Http2FrameHeader& frame, std::string_view payload) {
  if (block_.fragment.size() + payload.size() > limits_.max_header_block_bytes) {
    return fail("header block too large");
  }
  block_.fragment.append(payload);
  block_.wire_bytes += h2::kFrameHeaderBytes + frame.length;
  if ((frame.flags & h2::kEndHeaders) != 0) finish_header_block();
}

void Http2StreamParser::on_rst_stream(const Http2FrameHeader& frame, std::string_view payload) {
  Http2StreamReset reset{frame.stream_id, common::read_u32_be(payload, 0), std::nullopt};
  reset.partial = abort_stream(frame.stream_id);
  if (reset.partial) {
    reset.partial->wire_bytes += h2::kFrameHeaderBytes + frame.length;
    reset.partial->last_ns = now_ns_;
  }
  out_->on_reset(std::move(reset));
}

void Http2StreamParser::on_settings(const Http2FrameHeader& frame, std::string_view payload) {
  if ((frame.flags & h2::kAck) != 0) {
    if (!payload.empty()) return fail("SETTINGS ack with a payload");
    if (pending_settings_.empty()) return;
    if (pending_settings_.front()) apply_table_size(*pending_settings_.front());
    pending_settings_.erase(pending_settings_.begin());
    return;
  }
  if (payload.size() % kSettingBytes != 0) return fail("malformed SETTINGS");
  std::optional<uint32_t> header_table_size;
  for (size_t at = 0; at < payload.size(); at += kSettingBytes) {
    const auto id = static_cast<uint16_t>((static_cast<uint8_t>(payload[at]) << 8) |
                                          static_cast<uint8_t>(payload[at + 1]));
    if (id == kSettingsHeaderTableSize) header_table_size = common::read_u32_be(payload, at + 2);
  }
  out_->on_settings(header_table_size);
}

void Http2StreamParser::finish_header_block() {
  HeaderFields fields;
  bool dropped = false;
  // Every block is decoded, pushed or not, kept or not: the dynamic table depends on it.
  if (!hpack_.decode(block_.fragment, limits_.max_headers, limits_.max_header_field_bytes, fields,
                     dropped)) {
    return fail("HPACK decoding error");
  }
  if (dropped) ++dropped_header_fields_;
  const HeaderBlock block = {block_.stream_id, block_.type,       block_.end_stream,
                             block_.first_ns,  block_.wire_bytes, {}};
  block_.stream_id = 0;
  if (block_.fragment.capacity() > kRetainedBlockBytes) {
    block_.fragment = std::string();
  } else {
    block_.fragment.clear();
  }
  if (block.type == h2::kPushPromise) return;  // promised requests are not exchanges we pair

  const bool is_new = !streams_.contains(block.stream_id);
  Stream& stream = stream_for_headers(block.stream_id);
  HttpMessage& m = stream.message;
  if (is_new) m.first_ns = block.first_ns;
  m.wire_bytes += block.wire_bytes;
  m.last_ns = now_ns_;
  if (stream.headers_done) {  // trailers
    for (const HttpHeader& f : fields) {
      if (!f.name.starts_with(':')) m.trailers.add(f.name, f.value);
    }
  } else {
    m.header_bytes += block.wire_bytes;
    apply_header_fields(stream, fields);
  }
  if (block.end_stream) end_stream(streams_.find(block.stream_id));
}

void Http2StreamParser::apply_header_fields(Stream& stream, const HeaderFields& fields) {
  HttpMessage& m = stream.message;
  std::string_view authority;  // in `fields`, alive until the end
  for (const HttpHeader& f : fields) {
    if (!f.name.starts_with(':')) {
      m.headers.add(f.name, f.value);
    } else if (f.name == ":method") {
      m.method = f.value;
    } else if (f.name == ":path") {
      m.target = f.value;
    } else if (f.name == ":authority") {
      authority = f.value;
    } else if (f.name == ":status") {
      int status = 0;
      const auto [end, ec] =
          std::from_chars(f.value.data(), f.value.data() + f.value.size(), status);
      m.status = ec == std::errc() && end == f.value.data() + f.value.size() ? status : 0;
    }
  }
  // 1xx responses precede the real one on the same stream (RFC 9113 8.1).
  if (!m.is_request && m.status >= 100 && m.status < 200) {
    m.headers.clear();
    m.status = 0;
    return;
  }
  if (!authority.empty() && !header(m, "host")) m.headers.add("host", authority);
  stream.headers_done = true;
  stream.keep_body = !head_filter_ || head_filter_(m);
  m.body_skipped = !stream.keep_body;
}

Http2StreamParser::Stream& Http2StreamParser::stream_for_headers(uint32_t stream_id) {
  const auto it = streams_.find(stream_id);
  if (it != streams_.end()) return it->second;
  if (streams_.size() >= limits_.max_streams) {
    open_body_bytes_ -= streams_.begin()->second.message.body.size();
    streams_.erase(streams_.begin());
    ++evicted_streams_;
  }
  Stream& stream = streams_[stream_id];
  stream.message.is_request = side_ == Side::kClient;
  stream.message.stream_id = stream_id;
  stream.message.version_minor = 0;  // "HTTP/2.0": the major version lives in HttpExchange
  return stream;
}

void Http2StreamParser::end_stream(std::map<uint32_t, Stream>::iterator it) {
  open_body_bytes_ -= it->second.message.body.size();
  if (!it->second.headers_done) {  // END_STREAM with no final header section: malformed
    streams_.erase(it);
    return;
  }
  HttpMessage m = std::move(it->second.message);
  streams_.erase(it);
  m.last_ns = now_ns_;
  ++messages_;
  out_->on_message(std::move(m));
}

void Http2StreamParser::apply_table_size(uint32_t size) {
  if (!hpack_.set_max_table_size(std::min(size, limits_.max_header_table_size))) {
    fail("HPACK table size change refused");
  }
}

void Http2StreamParser::fail(std::string_view why) {
  reader_.stop(why);
  streams_.clear();  // nothing after this is trusted; free the memory now
  open_body_bytes_ = 0;
  block_ = {};
}

}  // namespace llmtap::http
