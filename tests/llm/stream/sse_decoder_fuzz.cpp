// libFuzzer target for the SSE decoder: no crash, bounded memory, and the same output
// wherever the input is cut (see stream_decoder_fuzz.h).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "llm/stream/sse_decoder.h"
#include "stream_decoder_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  llmtap::llm::fuzzing::check_split_invariance<llmtap::llm::SseDecoder>(data[0], input);
  return 0;
}
