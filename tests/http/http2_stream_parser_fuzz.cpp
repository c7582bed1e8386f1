// libFuzzer target for the HTTP/2 stream parser. The first byte picks the side (client
// inputs may start with the preface) and where the rest is cut in two. Besides not crashing,
// the cut must not change the result: a mismatch aborts.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "http/http2_stream_parser.h"

namespace {

using llmtap::http::Http2Output;
using llmtap::http::Http2StreamParser;
using llmtap::http::HttpMessage;

struct Result {
  std::vector<HttpMessage> messages;
  std::vector<uint32_t> resets;
  std::vector<std::optional<uint32_t>> settings;
  std::vector<HttpMessage> open;
  bool failed = false;
  bool operator==(const Result&) const = default;
};

Result parse(Http2StreamParser::Side side, std::string_view input, size_t cut) {
  // Small limits so the fuzzer reaches them quickly.
  Http2StreamParser parser(side, {.max_body_kept = 64,
                                  .max_header_block_bytes = 1024,
                                  .max_header_field_bytes = 256,
                                  .max_headers = 8,
                                  .max_streams = 4,
                                  .max_header_table_size = 8192});
  parser.set_head_filter([](const HttpMessage& head) { return head.stream_id % 4 != 3; });
  parser.on_peer_settings(8192);
  Http2Output out;
  parser.feed(input.substr(0, cut), 1, out);
  parser.feed(input.substr(cut), 1, out);
  Result result;
  result.messages = std::move(out.messages);
  for (const auto& reset : out.resets) result.resets.push_back(reset.stream_id);
  result.settings = std::move(out.settings);
  if (std::optional<HttpMessage> aborted = parser.abort_stream(1)) {
    result.open.push_back(std::move(*aborted));
  }
  for (HttpMessage& m : parser.take_open_streams()) result.open.push_back(std::move(m));
  result.failed = parser.failed();
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t cut = input.size() * (control & 0x7f) / 0x7f;
  const auto side =
      (control & 0x80) != 0 ? Http2StreamParser::Side::kClient : Http2StreamParser::Side::kServer;
  if (parse(side, input, cut) != parse(side, input, 0)) std::abort();
  return 0;
}
