#pragma once
// Incremental decoder of the AWS event-stream binary framing (application/vnd.amazon.eventstream:
// Bedrock invoke-with-response-stream and converse-stream). Each message is
//   total length (4) | headers length (4) | prelude CRC-32 (4) | headers | payload | CRC-32 (4)
// big-endian, the CRCs being zlib's crc32 of the prelude's first 8 bytes and of everything
// before the last 4. The format has no sync marker, so a bad CRC or an impossible length puts
// the decoder in an error state (counted) for the rest of the body. Where the bytes are split
// never changes the output.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "llm/stream/stream_event.h"
#include "llm/stream/stream_limits.h"

namespace llmtap::llm {

class AwsEventStreamDecoder {
 public:
  static constexpr size_t kPreludeBytes = 12;
  static constexpr size_t kMinMessageBytes = kPreludeBytes + 4;
  // Declared total lengths above this are impossible (the service's own limit is far lower).
  static constexpr size_t kMaxMessageBytes = 16 << 20;

  explicit AwsEventStreamDecoder(StreamLimits limits = {});

  // Decodes the next bytes of the body; appends the events they complete to `out`:
  //   `:message-type` event (or absent): type = `:event-type`, data = payload;
  //   exception: type = `:exception-type`, data = payload, is_exception;
  //   error: type = `:error-code`, data = payload or, when it is empty, `:error-message`,
  //   is_exception.
  // A message whose CRCs hold but whose headers do not parse is counted and skipped.
  // Messages over max_event_bytes (whole message) are checked by their CRC, counted, skipped.
  void feed(std::string_view bytes, std::vector<StreamEvent>& out);
  // End of body: a message cut short is counted as an error. The decoder is then ready for a
  // new body; the counters keep counting.
  void finish(std::vector<StreamEvent>& out);

  bool failed() const { return phase_ == Phase::kError; }
  uint64_t events() const { return events_; }
  uint64_t errors() const { return errors_; }
  uint64_t dropped_bytes() const { return dropped_bytes_; }
  std::string_view error() const { return error_; }  // the last error, a string literal

 private:
  enum class Phase { kPrelude, kKeptMessage, kSkippedMessage, kError };

  void take_prelude(std::string_view& in);
  void take_kept_message(std::string_view& in, std::vector<StreamEvent>& out);
  void take_skipped_message(std::string_view& in);
  void decode_message(std::vector<StreamEvent>& out);
  void drop_message(std::string_view why);  // counted; the framing is intact
  void next_message();
  void fail(std::string_view why);

  StreamLimits limits_;
  Phase phase_ = Phase::kPrelude;
  std::string message_;  // the prelude, then the whole message when it is kept
  uint32_t total_bytes_ = 0;
  uint32_t headers_bytes_ = 0;
  uint64_t message_bytes_seen_ = 0;  // of the current message, kept or not
  uint32_t running_crc_ = 0;         // skipped messages: CRC of the bytes before the last 4
  std::string crc_tail_;             // skipped messages: their last 4 bytes
  uint64_t events_ = 0;
  uint64_t errors_ = 0;
  uint64_t dropped_bytes_ = 0;
  std::string_view error_;
};

}  // namespace llmtap::llm
