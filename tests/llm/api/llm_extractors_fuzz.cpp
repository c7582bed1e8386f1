// libFuzzer target for the API extractors. The first byte picks the API family and which
// entry point reads the rest: a request body, a response body (with Bedrock token headers),
// or a stream whose events are the rest split at newlines (the type taken from a "type:"
// prefix, to reach the typed-event readers). Besides not crashing, every text handed out
// must be valid UTF-8 and within its limit.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "llm/api/extract.h"
#include "llm/api/utf8_text.h"

namespace {

using namespace llmtap::llm;

constexpr int kFamilies = static_cast<int>(ApiFamily::kOllamaEmbed) + 1;

void check_text(const std::string& text, size_t limit) {
  if (text.size() > limit || to_valid_utf8(text) != text) std::abort();
}

void check(const ResponseFacts& facts, const ExtractOptions& options) {
  check_text(facts.error_message, 512);
  if (facts.completion_text) check_text(*facts.completion_text, options.max_text_bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto family = static_cast<ApiFamily>(data[0] % kFamilies);
  const int entry = (data[0] / kFamilies) % 3;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const ExtractOptions options{.capture_text = true, .max_text_bytes = 64};

  if (entry == 0) {
    const RequestFacts facts = extract_request(family, rest, options);
    if (facts.prompt_text) check_text(*facts.prompt_text, options.max_text_bytes);
  } else if (entry == 1) {
    const llmtap::http::HeaderFields headers = {
        {"x-amzn-bedrock-input-token-count", "12"}, {"x-amzn-ErrorType", "X:y"}};
    check(extract_response(family, 400, headers, rest, options), options);
  } else {
    std::vector<StreamEvent> events;
    size_t start = 0;
    while (start <= rest.size()) {
      size_t end = rest.find('\n', start);
      if (end == std::string_view::npos) end = rest.size();
      StreamEvent event;
      std::string_view line = rest.substr(start, end - start);
      if (line.starts_with("type:")) {
        const size_t space = line.find(' ');
        event.type = line.substr(5, space == std::string_view::npos ? line.npos : space - 5);
        line = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
      }
      event.is_exception = line.starts_with("!");
      event.data = line;
      events.push_back(std::move(event));
      start = end + 1;
    }
    check(extract_stream(family, events, options), options);
  }
  return 0;
}
