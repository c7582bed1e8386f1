// libFuzzer target for the HTTP/1 framer. The first byte picks where the rest is cut in two
// and which request method the response side expects; both roles parse the same bytes.
// Besides not crashing, the cut must not change the result: a mismatch aborts.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "http/http1_stream_parser.h"

namespace {

using llmtap::http::Http1StreamParser;
using llmtap::http::HttpMessage;

struct Result {
  std::vector<HttpMessage> messages;
  Http1StreamParser::State state;
  uint64_t ignored_bytes;
};

Result parse(Http1StreamParser::Role role, bool head, std::string_view input, size_t cut) {
  // Small limits so the fuzzer reaches them quickly.
  Http1StreamParser parser(role, {.max_header_bytes = 512, .max_headers = 16, .max_body_kept = 128});
  parser.expect_response_to(head ? "HEAD" : "GET");
  parser.expect_response_to("CONNECT");
  std::vector<HttpMessage> messages = parser.feed(input.substr(0, cut));
  for (HttpMessage& m : parser.feed(input.substr(cut))) messages.push_back(std::move(m));
  if (std::optional<HttpMessage> last = parser.finish()) messages.push_back(std::move(*last));
  return {std::move(messages), parser.state(), parser.ignored_bytes()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t cut = input.size() * (control & 0x7f) / 0x7f;
  const bool head = (control & 0x80) != 0;
  for (auto role : {Http1StreamParser::Role::kRequest, Http1StreamParser::Role::kResponse}) {
    const Result split = parse(role, head, input, cut);
    const Result whole = parse(role, head, input, 0);
    if (split.messages != whole.messages || split.state != whole.state ||
        split.ignored_bytes != whole.ignored_bytes) {
      std::abort();
    }
  }
  return 0;
}
