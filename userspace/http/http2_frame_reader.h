#pragma once
// Incremental HTTP/2 frame reader (RFC 9113 4.1) for one direction of a connection: bytes in
// pieces of any size go in, frames come out through a sink. DATA payloads stream out without
// padding and are never buffered; other frames are buffered whole up to a limit (headers and
// control frames are small), except GOAWAY and unknown types, whose extra bytes are skipped.
// The client direction starts with the connection preface, which is checked and dropped.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmtap::http {

namespace h2 {
enum FrameType : uint8_t {
  kData = 0x0,
  kHeaders = 0x1,
  kPriority = 0x2,
  kRstStream = 0x3,
  kSettings = 0x4,
  kPushPromise = 0x5,
  kPing = 0x6,
  kGoaway = 0x7,
  kWindowUpdate = 0x8,
  kContinuation = 0x9,
};
enum Flag : uint8_t {
  kEndStream = 0x1,
  kAck = 0x1,
  kEndHeaders = 0x4,
  kPadded = 0x8,
  kPriorityFlag = 0x20,
};
inline constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
inline constexpr size_t kFrameHeaderBytes = 9;
}  // namespace h2

struct Http2FrameHeader {
  uint32_t length = 0;  // payload bytes, padding included
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t stream_id = 0;
  uint64_t first_ns = 0;  // capture time of the frame's first byte
};

class Http2FrameSink {
 public:
  virtual ~Http2FrameSink() = default;
  // A piece of a DATA frame's data (padding removed); called zero or more times per frame.
  virtual void on_data(const Http2FrameHeader& frame, std::string_view data) = 0;
  // A frame ended. DATA: after its data pieces, `payload` empty. GOAWAY: the first bytes
  // only; unknown types: empty. Others: the whole payload, padding still in it.
  virtual void on_frame(const Http2FrameHeader& frame, std::string_view payload) = 0;
};

class Http2FrameReader {
 public:
  Http2FrameReader(bool expect_preface, size_t max_buffered_payload);

  // Feeds bytes; frames go to `sink` as they end. Stops at the first malformed frame.
  void feed(std::string_view bytes, uint64_t mono_ns, Http2FrameSink& sink);

  // Stops reading: the rest of this feed and all later bytes only count as ignored. For
  // errors the sink finds (frame sequences, HPACK).
  void stop(std::string_view why) { fail(why); }

  bool failed() const { return phase_ == Phase::kError; }
  std::string_view error() const { return error_; }
  uint64_t frames() const { return frames_; }
  uint64_t ignored_bytes() const { return ignored_bytes_; }  // after an error

  // GOAWAY: last-stream-id and error code are all anyone reads.
  static constexpr size_t kGoawayKeptBytes = 8;

 private:
  enum class Phase { kPreface, kHeader, kDataPadLength, kData, kPadding, kPayload, kError };

  void start_frame(Http2FrameSink& sink);
  void end_frame(Http2FrameSink& sink);
  void fail(std::string_view why);

  size_t max_buffered_payload_;
  Phase phase_;
  size_t preface_matched_ = 0;
  std::array<uint8_t, h2::kFrameHeaderBytes> header_bytes_{};
  size_t header_filled_ = 0;
  Http2FrameHeader frame_;
  uint64_t now_ns_ = 0;
  uint32_t remaining_ = 0;  // payload bytes still to come
  uint32_t padding_ = 0;    // DATA: padding bytes after the data
  uint32_t kept_left_ = 0;  // kPayload: how much more of the payload goes to buffer_
  std::string buffer_;
  std::string_view error_;  // always a string literal
  uint64_t frames_ = 0;
  uint64_t ignored_bytes_ = 0;
};

}  // namespace llmtap::http
