// libFuzzer: any bytes as a GGUF header; no crash, no overread (ASan), bounded work.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "audit/gguf_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto facts =
      llmtap::audit::read_gguf_header(std::string_view(reinterpret_cast<const char*>(data), size));
  if (facts && (facts->version < 1 || facts->version > 3)) __builtin_trap();
  if (facts && facts->name.size() > size) __builtin_trap();
  return 0;
}
