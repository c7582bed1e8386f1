// The GGUF header reader (names from real-layout headers of versions 1-3, hostile and cut
// headers) and the model file finder (formats, the size floor for .pt/.bin, no symbolic links
// followed, the walk's bounds).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "audit/gguf_header.h"
#include "audit/model_file_finder.h"
#include "gguf_writer.h"

namespace llmtap::audit {
namespace {

namespace fs = std::filesystem;
using testing::GgufWriter;

TEST(GgufHeader, ReadsNameAndArchitecturePastOtherValues) {
  for (uint32_t version : {1u, 2u, 3u}) {
    const std::string h = GgufWriter(version)
                              .u32_kv("general.quantization_version", 2)
                              .string_kv("general.architecture", "llama")
                              .string_array_kv("tokenizer.ggml.tokens", 500)
                              .string_kv("general.name", "Meta Llama 3.1 8B Instruct")
                              .bytes();
    const auto facts = read_gguf_header(h);
    ASSERT_TRUE(facts) << version;
    EXPECT_EQ(facts->version, version);
    EXPECT_EQ(facts->tensor_count, 291u);
    EXPECT_EQ(facts->name, "Meta Llama 3.1 8B Instruct");
    EXPECT_EQ(facts->architecture, "llama");
  }
}

TEST(GgufHeader, NotGgufOrCutShort) {
  EXPECT_FALSE(read_gguf_header(""));
  EXPECT_FALSE(read_gguf_header("GGML"));
  EXPECT_FALSE(read_gguf_header(std::string("GGUF\x09\x00\x00\x00", 8))) << "unknown version";
  const std::string h = GgufWriter().string_kv("general.name", "Qwen2.5 7B").bytes();
  for (size_t cut = 8; cut < h.size(); ++cut) {
    const auto facts = read_gguf_header(std::string_view(h).substr(0, cut));
    ASSERT_TRUE(facts) << cut;
    EXPECT_TRUE(facts->name.empty()) << cut << ": a cut name is not a name";
  }
  EXPECT_EQ(read_gguf_header(h)->name, "Qwen2.5 7B");
}

TEST(GgufHeader, HostileCountsAndLengthsAreBounded) {
  // A key/value count of 2^63 and a string length past the end: no hang, no overread.
  std::string h("GGUF", 4);
  const uint32_t v = 3;
  const uint64_t tensors = 1;
  const uint64_t kvs = uint64_t{1} << 63;
  const uint64_t huge = uint64_t{1} << 62;
  h.append(reinterpret_cast<const char*>(&v), 4);
  h.append(reinterpret_cast<const char*>(&tensors), 8);
  h.append(reinterpret_cast<const char*>(&kvs), 8);
  h.append(reinterpret_cast<const char*>(&huge), 8);
  const auto facts = read_gguf_header(h);
  ASSERT_TRUE(facts);
  EXPECT_TRUE(facts->name.empty());
}

class ModelFileFinderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/llmtap-models-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const fs::path& p, const std::string& bytes) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
  }
  fs::path root_;
};

TEST_F(ModelFileFinderTest, FindsModelFormatsWithTheirNames) {
  write(root_ / "models/llama.gguf", GgufWriter()
                                         .string_kv("general.name", "TinyLlama 1.1B")
                                         .string_kv("general.architecture", "llama")
                                         .bytes());
  write(root_ / "hf/model.safetensors", std::string(64, 's'));
  write(root_ / "onnx/Encoder.ONNX", std::string(32, 'o'));
  write(root_ / "torch/big.bin", std::string(2048, 'b'));
  write(root_ / "torch/small.pt", std::string(100, 'p'));  // under the floor: not a model
  write(root_ / "notes.txt", "hello");
  fs::create_symlink(root_ / "models", root_ / "link-to-models");
  ModelSearch s;
  s.roots = {root_.string()};
  s.min_pytorch_bytes = 1024;
  const ModelSearchResult r = find_model_files(s);
  ASSERT_EQ(r.files.size(), 4u);
  EXPECT_EQ(r.files[0].path, (root_ / "hf/model.safetensors").string());
  EXPECT_EQ(r.files[0].format, "safetensors");
  EXPECT_EQ(r.files[1].path, (root_ / "models/llama.gguf").string());
  EXPECT_EQ(r.files[1].format, "gguf");
  EXPECT_EQ(r.files[1].name, "TinyLlama 1.1B");
  EXPECT_EQ(r.files[1].architecture, "llama");
  EXPECT_EQ(r.files[2].format, "onnx");
  EXPECT_EQ(r.files[3].path, (root_ / "torch/big.bin").string());
  EXPECT_EQ(r.files[3].format, "pytorch");
  EXPECT_EQ(r.files[3].size, 2048u);
  EXPECT_FALSE(r.cut_short);
}

TEST_F(ModelFileFinderTest, TheWalkIsBounded) {
  for (int i = 0; i < 50; ++i) write(root_ / ("d" + std::to_string(i)) / "m.gguf", "GGUF");
  ModelSearch s;
  s.roots = {root_.string(), "/nonexistent-root"};
  s.max_entries = 30;
  const ModelSearchResult r = find_model_files(s);
  EXPECT_TRUE(r.cut_short);
  EXPECT_LT(r.files.size(), 30u);
  // Depth: a file below max_depth is not reached.
  write(root_ / "a/b/c/d/deep.gguf", "GGUF");
  ModelSearch shallow;
  shallow.roots = {root_.string()};
  shallow.max_depth = 2;
  for (const auto& f : find_model_files(shallow).files) {
    EXPECT_EQ(f.path.find("deep.gguf"), std::string::npos);
  }
}

}  // namespace
}  // namespace llmtap::audit
