#include "llm/stream/aws_event_stream_decoder.h"

#include <zlib.h>

#include <algorithm>
#include <iterator>
#include <optional>

#include "common/wire_text.h"

namespace llmtap::llm {
namespace {

uint32_t crc32_of(uint32_t crc, std::string_view bytes) {
  // Sizes here are below kMaxMessageBytes, so they fit zlib's uInt.
  return static_cast<uint32_t>(
      crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// The string-valued headers that name an event; other headers are skipped by their type.
struct EventHeaders {
  std::string_view message_type;
  std::string_view event_type;
  std::string_view exception_type;
  std::string_view error_code;
  std::string_view error_message;
};

// Bytes of a fixed-size header value by type; nullopt for the variable-size types (6, 7) and
// for unknown ones.
std::optional<size_t> fixed_value_bytes(uint8_t type) {
  constexpr size_t kSizes[] = {
      0,   // 0 bool true
      0,   // 1 bool false
      1,   // 2 byte
      2,   // 3 short
      4,   // 4 int
      8,   // 5 long
      0,   // 6 byte array (variable)
      0,   // 7 string (variable)
      8,   // 8 timestamp, ms since the epoch
      16,  // 9 uuid
  };
  if (type >= std::size(kSizes) || type == 6 || type == 7) return std::nullopt;
  return kSizes[type];
}

// Header: name length (1) | name | value type (1) | value, where byte arrays and strings are
// length (2) | bytes. Returns false on a value type outside 0..9 or a header running past the
// headers section.
bool parse_headers(std::string_view in, EventHeaders& headers) {
  while (!in.empty()) {
    const size_t name_len = static_cast<uint8_t>(in[0]);
    if (in.size() < 1 + name_len + 1) return false;
    const std::string_view name = in.substr(1, name_len);
    const auto type = static_cast<uint8_t>(in[1 + name_len]);
    in.remove_prefix(1 + name_len + 1);
    if (type == 6 || type == 7) {
      if (in.size() < 2) return false;
      const size_t len =
          static_cast<size_t>(static_cast<uint8_t>(in[0])) << 8 | static_cast<uint8_t>(in[1]);
      if (in.size() < 2 + len) return false;
      if (type == 7) {
        const std::string_view value = in.substr(2, len);
        if (name == ":message-type") headers.message_type = value;
        if (name == ":event-type") headers.event_type = value;
        if (name == ":exception-type") headers.exception_type = value;
        if (name == ":error-code") headers.error_code = value;
        if (name == ":error-message") headers.error_message = value;
      }
      in.remove_prefix(2 + len);
      continue;
    }
    const std::optional<size_t> value_len = fixed_value_bytes(type);
    if (!value_len || in.size() < *value_len) return false;
    in.remove_prefix(*value_len);
  }
  return true;
}

}  // namespace

AwsEventStreamDecoder::AwsEventStreamDecoder(StreamLimits limits) : limits_(limits) {}

void AwsEventStreamDecoder::feed(std::string_view bytes, std::vector<StreamEvent>& out) {
  while (!bytes.empty()) {
    switch (phase_) {
      case Phase::kPrelude:
        take_prelude(bytes);
        break;
      case Phase::kKeptMessage:
        take_kept_message(bytes, out);
        break;
      case Phase::kSkippedMessage:
        take_skipped_message(bytes);
        break;
      case Phase::kError:
        dropped_bytes_ += bytes.size();
        return;
    }
  }
}

void AwsEventStreamDecoder::finish(std::vector<StreamEvent>&) {
  if (phase_ != Phase::kError && message_bytes_seen_ > 0) {
    ++errors_;
    error_ = "body ends inside a message";
    dropped_bytes_ += message_bytes_seen_;
  }
  phase_ = Phase::kPrelude;
  next_message();
}

void AwsEventStreamDecoder::take_prelude(std::string_view& in) {
  const size_t take = std::min(kPreludeBytes - message_.size(), in.size());
  message_.append(in.substr(0, take));
  message_bytes_seen_ += take;
  in.remove_prefix(take);
  if (message_.size() < kPreludeBytes) return;

  total_bytes_ = common::read_u32_be(message_);
  headers_bytes_ = common::read_u32_be(std::string_view(message_).substr(4));
  if (crc32_of(0, std::string_view(message_).substr(0, 8)) !=
      common::read_u32_be(std::string_view(message_).substr(8))) {
    fail("bad prelude CRC");
  } else if (total_bytes_ < kMinMessageBytes || total_bytes_ > kMaxMessageBytes ||
             headers_bytes_ > total_bytes_ - kMinMessageBytes) {
    fail("impossible message length");
  } else if (total_bytes_ > limits_.max_event_bytes) {
    phase_ = Phase::kSkippedMessage;
    running_crc_ = crc32_of(0, message_);
    message_.clear();
  } else {
    phase_ = Phase::kKeptMessage;
  }
}

void AwsEventStreamDecoder::take_kept_message(std::string_view& in, std::vector<StreamEvent>& out) {
  const size_t take = std::min<size_t>(total_bytes_ - message_.size(), in.size());
  message_.append(in.substr(0, take));
  message_bytes_seen_ += take;
  in.remove_prefix(take);
  if (message_.size() == total_bytes_) decode_message(out);
}

void AwsEventStreamDecoder::take_skipped_message(std::string_view& in) {
  // Bytes before the message CRC feed the running CRC; the last 4 are the CRC itself.
  const uint64_t crc_start = total_bytes_ - 4;
  if (message_bytes_seen_ < crc_start) {
    const size_t take = std::min<uint64_t>(crc_start - message_bytes_seen_, in.size());
    running_crc_ = crc32_of(running_crc_, in.substr(0, take));
    message_bytes_seen_ += take;
    in.remove_prefix(take);
  }
  const size_t take = std::min<size_t>(4 - crc_tail_.size(), in.size());
  crc_tail_.append(in.substr(0, take));
  message_bytes_seen_ += take;
  in.remove_prefix(take);
  if (crc_tail_.size() < 4) return;
  if (running_crc_ != common::read_u32_be(crc_tail_)) {
    fail("bad message CRC");
    return;
  }
  drop_message("message over the size limit");
}

void AwsEventStreamDecoder::decode_message(std::vector<StreamEvent>& out) {
  const std::string_view message(message_);
  if (crc32_of(0, message.substr(0, total_bytes_ - 4)) !=
      common::read_u32_be(message.substr(total_bytes_ - 4))) {
    fail("bad message CRC");
    return;
  }
  EventHeaders headers;
  if (!parse_headers(message.substr(kPreludeBytes, headers_bytes_), headers)) {
    drop_message("malformed headers");
    return;
  }
  const size_t payload_start = kPreludeBytes + headers_bytes_;
  StreamEvent event;
  event.data.assign(message.substr(payload_start, total_bytes_ - 4 - payload_start));
  if (headers.message_type == "exception") {
    event.type.assign(headers.exception_type);
    event.is_exception = true;
  } else if (headers.message_type == "error") {
    event.type.assign(headers.error_code);
    if (event.data.empty()) event.data.assign(headers.error_message);
    event.is_exception = true;
  } else {
    event.type.assign(headers.event_type);
  }
  out.push_back(std::move(event));
  ++events_;
  next_message();
}

void AwsEventStreamDecoder::drop_message(std::string_view why) {
  ++errors_;
  error_ = why;
  dropped_bytes_ += message_bytes_seen_;
  next_message();
}

void AwsEventStreamDecoder::next_message() {
  phase_ = Phase::kPrelude;
  message_.clear();
  total_bytes_ = 0;
  headers_bytes_ = 0;
  message_bytes_seen_ = 0;
  running_crc_ = 0;
  crc_tail_.clear();
}

void AwsEventStreamDecoder::fail(std::string_view why) {
  ++errors_;
  error_ = why;
  dropped_bytes_ += message_bytes_seen_;
  phase_ = Phase::kError;
  message_.clear();
  message_bytes_seen_ = 0;
}

}  // namespace llmtap::llm
