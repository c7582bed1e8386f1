#include "http/http2_frame_reader.h"

#include <algorithm>

namespace llmtap::http {
namespace {

// A buffer that grew past this for one large frame is released afterwards, so an idle
// connection does not keep it.
constexpr size_t kRetainedBufferBytes = 16 * 1024;

bool is_known_type(uint8_t type) { return type <= h2::kContinuation; }

}  // namespace

Http2FrameReader::Http2FrameReader(bool expect_preface, size_t max_buffered_payload)
    : max_buffered_payload_(max_buffered_payload),
      phase_(expect_preface ? Phase::kPreface : Phase::kHeader) {}

void Http2FrameReader::feed(std::string_view bytes, uint64_t mono_ns, Http2FrameSink& sink) {
  now_ns_ = mono_ns;
  while (!bytes.empty()) {
    switch (phase_) {
      case Phase::kError:
        ignored_bytes_ += bytes.size();
        buffer_ = std::string();  // not in fail(): the sink may still be reading it
        return;
      case Phase::kPreface: {
        const size_t n = std::min(bytes.size(), h2::kPreface.size() - preface_matched_);
        if (bytes.substr(0, n) != h2::kPreface.substr(preface_matched_, n)) {
          fail("invalid connection preface");
          break;
        }
        preface_matched_ += n;
        bytes.remove_prefix(n);
        if (preface_matched_ == h2::kPreface.size()) phase_ = Phase::kHeader;
        break;
      }
      case Phase::kHeader: {
        if (header_filled_ == 0) frame_.first_ns = now_ns_;
        const size_t n = std::min(bytes.size(), header_bytes_.size() - header_filled_);
        std::copy_n(bytes.begin(), n, header_bytes_.begin() + header_filled_);
        header_filled_ += n;
        bytes.remove_prefix(n);
        if (header_filled_ == header_bytes_.size()) {
          header_filled_ = 0;
          start_frame(sink);
        }
        break;
      }
      case Phase::kDataPadLength: {
        padding_ = static_cast<uint8_t>(bytes.front());
        bytes.remove_prefix(1);
        --remaining_;
        if (padding_ > remaining_) {
          fail("padding longer than the frame");
          break;
        }
        remaining_ -= padding_;
        phase_ = Phase::kData;
        if (remaining_ == 0 && padding_ == 0) end_frame(sink);
        break;
      }
      case Phase::kData: {
        const size_t n = std::min<size_t>(bytes.size(), remaining_);
        if (n > 0) sink.on_data(frame_, bytes.substr(0, n));
        bytes.remove_prefix(n);
        remaining_ -= static_cast<uint32_t>(n);
        if (remaining_ > 0) break;
        if (padding_ > 0) {
          remaining_ = padding_;
          phase_ = Phase::kPadding;
        } else {
          end_frame(sink);
        }
        break;
      }
      case Phase::kPadding: {
        const size_t n = std::min<size_t>(bytes.size(), remaining_);
        bytes.remove_prefix(n);
        remaining_ -= static_cast<uint32_t>(n);
        if (remaining_ == 0) end_frame(sink);
        break;
      }
      case Phase::kPayload: {
        const size_t n = std::min<size_t>(bytes.size(), remaining_);
        const size_t kept = std::min<size_t>(n, kept_left_);
        buffer_.append(bytes.substr(0, kept));
        kept_left_ -= static_cast<uint32_t>(kept);
        bytes.remove_prefix(n);
        remaining_ -= static_cast<uint32_t>(n);
        if (remaining_ == 0) end_frame(sink);
        break;
      }
    }
  }
}

void Http2FrameReader::start_frame(Http2FrameSink& sink) {
  const auto& b = header_bytes_;
  frame_.length = (uint32_t{b[0]} << 16) | (uint32_t{b[1]} << 8) | b[2];
  frame_.type = b[3];
  frame_.flags = b[4];
  frame_.stream_id =
      ((uint32_t{b[5]} << 24) | (uint32_t{b[6]} << 16) | (uint32_t{b[7]} << 8) | b[8]) &
      0x7fffffffu;  // the reserved bit is ignored (RFC 9113 4.1)
  ++frames_;
  remaining_ = frame_.length;
  padding_ = 0;
  if (frame_.type == h2::kData) {
    if ((frame_.flags & h2::kPadded) != 0) {
      if (frame_.length == 0) return fail("padded frame without a pad length");
      phase_ = Phase::kDataPadLength;
      return;
    }
    phase_ = Phase::kData;
  } else {
    if (frame_.type == h2::kGoaway) {
      kept_left_ = std::min<uint32_t>(frame_.length, kGoawayKeptBytes);
    } else if (is_known_type(frame_.type)) {
      if (frame_.length > max_buffered_payload_) return fail("frame too large");
      kept_left_ = frame_.length;
    } else {
      kept_left_ = 0;  // extension frames carry nothing for us (RFC 9113 5.5)
    }
    phase_ = Phase::kPayload;
  }
  if (remaining_ == 0) end_frame(sink);
}

void Http2FrameReader::end_frame(Http2FrameSink& sink) {
  phase_ = Phase::kHeader;
  sink.on_frame(frame_, frame_.type == h2::kData ? std::string_view() : buffer_);
  if (buffer_.capacity() > kRetainedBufferBytes) {
    buffer_ = std::string();
  } else {
    buffer_.clear();
  }
}

void Http2FrameReader::fail(std::string_view why) {
  if (phase_ == Phase::kError) return;
  error_ = why;
  phase_ = Phase::kError;
}

}  // namespace llmtap::http
