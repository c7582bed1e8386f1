// libFuzzer target for the per-connection parser. The rest of the input after the first byte
// is a sequence of pieces separated by the two bytes 00 FF; pieces alternate between the
// captured process's writes and reads, starting with writes when bit 7 of the first byte is
// set. Each piece is fed whole in one run and in chunks of ((first byte & 0x3f) + 1) bytes in
// another: the exchanges must not differ (a mismatch aborts). Bit 6 closes the connection.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "http/http_connection_parser.h"

namespace {

using llmtap::http::HttpConnectionOptions;
using llmtap::http::HttpConnectionParser;
using llmtap::http::HttpConnectionStats;
using llmtap::http::HttpExchange;
using llmtap::http::HttpMessage;

constexpr std::string_view kSeparator("\x00\xff", 2);

bool same(const HttpExchange& a, const HttpExchange& b) {
  return a.version == b.version && a.stream_id == b.stream_id && a.request == b.request &&
         a.response == b.response && a.has_response == b.has_response &&
         a.response_incomplete == b.response_incomplete &&
         a.request_first_ns == b.request_first_ns && a.response_last_ns == b.response_last_ns &&
         a.request_wire_bytes == b.request_wire_bytes &&
         a.response_wire_bytes == b.response_wire_bytes &&
         a.response_decode_error == b.response_decode_error;
}

struct Result {
  std::vector<HttpExchange> exchanges;
  HttpConnectionStats stats;
};

Result run(std::string_view input, bool first_is_write, size_t chunk, bool close) {
  HttpConnectionOptions options;
  options.max_body_kept = 256;
  options.max_decoded_body = 1024;
  options.request_filter = [](const HttpMessage& head) { return !head.target.starts_with("/x"); };
  HttpConnectionParser parser(std::move(options));
  Result result;
  bool is_write = first_is_write;
  uint64_t piece_index = 0;
  while (true) {
    const size_t end = input.find(kSeparator);
    const std::string_view piece = input.substr(0, end);
    for (size_t at = 0; at < piece.size(); at += chunk) {
      parser.on_data(is_write, piece.substr(at, chunk), piece_index, result.exchanges);
    }
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + kSeparator.size());
    is_write = !is_write;
    ++piece_index;
  }
  if (close) parser.on_close(piece_index + 1, result.exchanges);
  result.stats = parser.stats();
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool first_is_write = (control & 0x80) != 0;
  const bool close = (control & 0x40) != 0;
  const Result whole = run(input, first_is_write, input.size() + 1, close);
  const Result chunked = run(input, first_is_write, (control & 0x3f) + 1, close);
  if (whole.exchanges.size() != chunked.exchanges.size() || !(whole.stats == chunked.stats)) {
    std::abort();
  }
  for (size_t i = 0; i < whole.exchanges.size(); ++i) {
    if (!same(whole.exchanges[i], chunked.exchanges[i])) std::abort();
  }
  return 0;
}
