#include "audit/model_file_finder.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "audit/gguf_header.h"

namespace llmtap::audit {
namespace {

namespace fs = std::filesystem;

std::string lower_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

void read_gguf(ModelFile& f) {
  std::ifstream in(f.path, std::ios::binary);
  std::string header(static_cast<size_t>(std::min<uint64_t>(f.size, kGgufHeaderBytes)), '\0');
  in.read(header.data(), static_cast<std::streamsize>(header.size()));
  header.resize(static_cast<size_t>(in.gcount()));
  if (const auto facts = read_gguf_header(header)) {
    f.name = facts->name;
    f.architecture = facts->architecture;
  }
}

}  // namespace

ModelSearchResult find_model_files(const ModelSearch& search) {
  ModelSearchResult result;
  for (const std::string& root : search.roots) {
    struct stat root_st {};
    if (::lstat(root.c_str(), &root_st) != 0 || !S_ISDIR(root_st.st_mode)) continue;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    for (const fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
      if (++result.entries_examined > search.max_entries) {
        result.cut_short = true;
        break;
      }
      struct stat st {};
      if (::lstat(it->path().c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        // Stay on the root's file system, and within the depth.
        if (st.st_dev != root_st.st_dev || it.depth() >= search.max_depth) {
          it.disable_recursion_pending();
        }
        continue;
      }
      if (!S_ISREG(st.st_mode)) continue;
      const std::string ext = lower_extension(it->path());
      ModelFile f;
      f.path = it->path().string();
      f.size = static_cast<uint64_t>(st.st_size);
      if (ext == ".gguf") {
        f.format = "gguf";
        read_gguf(f);
      } else if (ext == ".safetensors") {
        f.format = "safetensors";
      } else if (ext == ".onnx") {
        f.format = "onnx";
      } else if ((ext == ".pt" || ext == ".pth" || ext == ".bin") &&
                 f.size >= search.min_pytorch_bytes) {
        f.format = "pytorch";
      } else {
        continue;
      }
      result.files.push_back(std::move(f));
    }
  }
  std::sort(result.files.begin(), result.files.end(),
            [](const ModelFile& a, const ModelFile& b) { return a.path < b.path; });
  return result;
}

}  // namespace llmtap::audit
