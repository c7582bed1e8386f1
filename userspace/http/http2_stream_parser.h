#pragma once
// HTTP/2 messages from one direction of a connection (RFC 9113): frames from
// Http2FrameReader, header blocks through this direction's HPACK decoder, each stream's
// HEADERS, DATA and trailers assembled into an HttpMessage that ends at END_STREAM. The
// client direction (after the preface) carries requests, the server direction responses.
// State is bounded: streams tracked (oldest evicted, counted), header blocks, kept bodies.
// A malformed frame or an HPACK error stops the direction for good (counted).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/hpack_decoder.h"
#include "http/http2_frame_reader.h"
#include "http/http_message.h"

namespace llmtap::http {

struct Http2StreamReset {
  uint32_t stream_id = 0;
  uint32_t error_code = 0;
  std::optional<HttpMessage> partial;  // this direction's message on the stream, if begun
};

// What one direction says, delivered the moment the parser reads it and before it reads on,
// so the receiver sees messages, resets and head filter calls (set_head_filter) in wire
// order whatever pieces the bytes came in. The parser's state is settled before each call.
class Http2OutputSink {
 public:
  virtual ~Http2OutputSink() = default;
  // A message ended by END_STREAM.
  virtual void on_message(HttpMessage&& message) = 0;
  // A RST_STREAM frame this direction sent.
  virtual void on_reset(Http2StreamReset reset) = 0;
  // A SETTINGS frame (not ack) this direction sent, with its SETTINGS_HEADER_TABLE_SIZE if
  // any: for the other direction's on_peer_settings().
  virtual void on_settings(std::optional<uint32_t> header_table_size) = 0;
};

// Collects the output by kind (the order across kinds is lost).
struct Http2Output final : Http2OutputSink {
  std::vector<HttpMessage> messages;     // in the order they ended
  std::vector<Http2StreamReset> resets;  // in the order they were sent
  std::vector<std::optional<uint32_t>> settings;
  void clear() {
    messages.clear();
    resets.clear();
    settings.clear();
  }
  void on_message(HttpMessage&& message) override { messages.push_back(std::move(message)); }
  void on_reset(Http2StreamReset reset) override { resets.push_back(std::move(reset)); }
  void on_settings(std::optional<uint32_t> header_table_size) override {
    settings.push_back(header_table_size);
  }
};

class Http2StreamParser : private Http2FrameSink {
 public:
  enum class Side { kClient, kServer };
  struct Limits {
    size_t max_body_kept = 8 << 20;              // longer bodies are counted, not kept
    size_t max_header_block_bytes = 256 * 1024;  // encoded, HEADERS + CONTINUATION
    size_t max_header_field_bytes = 256 * 1024;  // decoded names + values kept per block
    size_t max_headers = 256;                    // fields kept per block
    size_t max_streams = 1024;                   // open streams tracked
    size_t max_open_body_kept = 16 << 20;        // body bytes kept across all open streams
    uint32_t max_header_table_size = 1 << 20;    // HPACK table the peer may make us keep
  };
  using KeepBodyFilter = std::function<bool(HttpMessage& head)>;

  explicit Http2StreamParser(Side side);
  Http2StreamParser(Side side, Limits limits);

  // Called when a message's header section is complete; false: count its body, don't keep it.
  void set_head_filter(KeepBodyFilter filter) { head_filter_ = std::move(filter); }

  // Feeds the next bytes of the direction; results go to `out` as they are read.
  void feed(std::string_view bytes, uint64_t mono_ns, Http2OutputSink& out);

  // The other direction sent SETTINGS (Http2OutputSink::on_settings). Its header table size
  // applies to this direction's encoder from this direction's acknowledgement on.
  void on_peer_settings(std::optional<uint32_t> header_table_size);

  // The other direction reset the stream: forgets it, returning its message if begun.
  std::optional<HttpMessage> abort_stream(uint32_t stream_id);
  // The connection closed: the messages begun and not ended, by stream id.
  std::vector<HttpMessage> take_open_streams();

  bool failed() const { return reader_.failed(); }
  std::string_view error() const { return reader_.error(); }
  size_t open_streams() const { return streams_.size(); }
  uint64_t frames() const { return reader_.frames(); }
  uint64_t messages() const { return messages_; }
  uint64_t evicted_streams() const { return evicted_streams_; }
  // Bodies cut because the open streams together held max_open_body_kept (counted once per
  // stream); take_ resets the count.
  uint64_t take_bodies_over_budget() { return std::exchange(bodies_over_budget_, 0); }
  uint64_t dropped_header_fields() const { return dropped_header_fields_; }
  uint64_t orphan_data_bytes() const { return orphan_data_bytes_; }   // DATA on unknown streams
  uint64_t ignored_bytes() const { return reader_.ignored_bytes(); }  // after an error

  // Acks we wait for are bounded; past this the oldest setting applies at once.
  static constexpr size_t kMaxPendingSettings = 16;

 private:
  struct Stream {
    HttpMessage message;
    bool headers_done = false;  // the (final) header section arrived; later blocks are trailers
    bool keep_body = true;
  };
  // A header block being collected across HEADERS/PUSH_PROMISE and CONTINUATION frames.
  struct HeaderBlock {
    uint32_t stream_id = 0;  // 0: none in progress
    uint8_t type = 0;
    bool end_stream = false;
    uint64_t first_ns = 0;
    uint64_t wire_bytes = 0;
    std::string fragment;
  };

  static void reserve_declared_body(HttpMessage& m, size_t cap);
  void on_data(const Http2FrameHeader& frame, std::string_view data) override;
  void on_frame(const Http2FrameHeader& frame, std::string_view payload) override;

  void on_data_end(const Http2FrameHeader& frame);
  void on_header_frame(const Http2FrameHeader& frame, std::string_view payload);
  void on_continuation(const Http2FrameHeader& frame, std::string_view payload);
  void on_rst_stream(const Http2FrameHeader& frame, std::string_view payload);
  void on_settings(const Http2FrameHeader& frame, std::string_view payload);
  void finish_header_block();
  void apply_header_fields(Stream& stream, const HeaderFields& fields);
  Stream& stream_for_headers(uint32_t stream_id);
  void end_stream(std::map<uint32_t, Stream>::iterator it);
  void apply_table_size(uint32_t size);
  void fail(std::string_view why);

  Side side_;
  Limits limits_;
  Http2FrameReader reader_;
  HpackDecoder hpack_;
  KeepBodyFilter head_filter_;
  std::map<uint32_t, Stream> streams_;  // by id, so the oldest stream is the first
  HeaderBlock block_;
  std::vector<std::optional<uint32_t>>
      pending_settings_;            // oldest first; a deque allocates even empty
  Http2OutputSink* out_ = nullptr;  // set during feed()
  uint64_t now_ns_ = 0;
  uint64_t messages_ = 0;
  uint64_t evicted_streams_ = 0;
  uint64_t bodies_over_budget_ = 0;
  size_t open_body_bytes_ = 0;  // body bytes kept by the streams in streams_
  uint64_t dropped_header_fields_ = 0;
  uint64_t orphan_data_bytes_ = 0;
};

}  // namespace llmtap::http
