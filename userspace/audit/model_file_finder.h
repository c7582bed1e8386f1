#pragma once
// Model weights on disk, for the audit's inventory: .gguf, .safetensors and .onnx files, and
// .pt/.pth/.bin files over a size (small ones are rarely models), under the given roots. For
// GGUF, the model's own name from its header. Symbolic links are not followed, other file
// systems under a root are not entered (so /proc, network mounts and the like stay out), and
// the walk is bounded in depth and in files examined.

#include <cstdint>
#include <string>
#include <vector>

namespace llmtap::audit {

struct ModelFile {
  std::string path;
  uint64_t size = 0;
  std::string format;        // "gguf", "safetensors", "onnx", "pytorch"
  std::string name;          // GGUF general.name, "" otherwise
  std::string architecture;  // GGUF general.architecture
};

struct ModelSearch {
  std::vector<std::string> roots;
  uint64_t min_pytorch_bytes = uint64_t{100} << 20;  // .pt/.pth/.bin smaller than this: skipped
  int max_depth = 16;
  size_t max_entries = 500000;  // directory entries examined in all
};

struct ModelSearchResult {
  std::vector<ModelFile> files;  // by path
  size_t entries_examined = 0;
  bool cut_short = false;  // max_entries reached: there may be more
};

ModelSearchResult find_model_files(const ModelSearch& search);

}  // namespace llmtap::audit
