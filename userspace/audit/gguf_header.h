#pragma once
// The model name (and architecture) a GGUF file declares in its header: "general.name" and
// "general.architecture" among the key/value pairs before the tensors. Reads at most a bounded
// prefix; a truncated, hostile or non-GGUF file gives nullopt or the fields found so far.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmtap::audit {

struct GgufFacts {
  uint32_t version = 0;
  uint64_t tensor_count = 0;
  std::string name;          // general.name, "" when absent
  std::string architecture;  // general.architecture ("llama", "qwen2", ...), "" when absent
};

// `header`: the first bytes of the file (llmtap reads up to kGgufHeaderBytes). nullopt when it
// does not start with the GGUF magic and a known version (1, 2, 3).
std::optional<GgufFacts> read_gguf_header(std::string_view header);

inline constexpr size_t kGgufHeaderBytes = size_t{4} << 20;

}  // namespace llmtap::audit
