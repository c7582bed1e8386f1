// Runs a libFuzzer entry point over files, for builds without libFuzzer: each argument is a
// file or a directory of files. With no argument it runs a few built-in inputs, so every fuzz
// target is at least exercised by the ordinary test run.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int run_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return 1;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int failures = 0;
  size_t runs = 0;
  if (argc < 2) {
    const std::vector<std::string> inputs = {"", std::string(1, '\0'), "\r\n\r\n", "{}", "[",
                                             std::string(4096, '\xff')};
    for (const auto& in : inputs) {
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(in.data()), in.size());
      ++runs;
    }
  }
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(arg)) {
        if (!entry.is_regular_file()) continue;
        failures += run_file(entry.path());
        ++runs;
      }
    } else {
      failures += run_file(arg);
      ++runs;
    }
  }
  std::printf("%zu inputs replayed, %d unreadable\n", runs, failures);
  return failures == 0 ? 0 : 1;
}
