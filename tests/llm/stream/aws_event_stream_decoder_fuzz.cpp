// libFuzzer target for the AWS event-stream decoder: no crash, bounded memory, and the same
// output wherever the input is cut (see stream_decoder_fuzz.h). Bit 6 of the control byte
// rewrites the CRCs of the input's messages to be correct first, so that mutations reach the
// header and payload handling instead of stopping at the CRC checks.

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "llm/stream/aws_event_stream_decoder.h"
#include "stream_decoder_fuzz.h"

namespace {

using llmtap::llm::AwsEventStreamDecoder;

uint32_t read_u32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(s[at + i]);
  return v;
}

void write_u32(std::string& s, size_t at, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (24 - 8 * i));
}

uint32_t crc(const std::string& s, size_t at, size_t len) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(s.data() + at), static_cast<uInt>(len)));
}

void fix_crcs(std::string& s) {
  size_t at = 0;
  while (s.size() - at >= AwsEventStreamDecoder::kPreludeBytes) {
    write_u32(s, at + 8, crc(s, at, 8));
    const uint32_t total = read_u32(s, at);
    if (total < AwsEventStreamDecoder::kMinMessageBytes || total > s.size() - at) return;
    write_u32(s, at + total - 4, crc(s, at, total - 4));
    at += total;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((data[0] & 0x40) != 0) fix_crcs(input);
  llmtap::llm::fuzzing::check_split_invariance<AwsEventStreamDecoder>(data[0], input, 1);
  return 0;
}
