// Provider keys in process environments: found by variable name, reported with the
// fingerprint call records use, never with the value.
#include "audit/environment_keys.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/sha256.h"

namespace llmtap::audit {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

const std::string kOpenAiKey = "sk-proj-aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7sU9wY1aC3eG5";
const std::string kAnthropicKey = "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe9Dc8Ba7";

TEST(EnvironmentKeys, FindsProviderKeysByNameWithTheirFingerprints) {
  const std::string block = "PATH=/usr/bin\0OPENAI_API_KEY="s + kOpenAiKey +
                            "\0HOME=/root\0ANTHROPIC_API_KEY="s + kAnthropicKey +
                            "\0GROQ_API_KEY=\0NOT_OPENAI_API_KEY=x\0OPENAI_API_KEY_FILE=/k\0"s;
  const auto keys = provider_keys_in(block);
  ASSERT_EQ(keys.size(), 2u) << "an empty value and look-alike names are not keys";
  EXPECT_EQ(keys[0].variable, "OPENAI_API_KEY");
  EXPECT_EQ(keys[0].provider, "openai");
  EXPECT_EQ(keys[0].fingerprint, sha256_hex(kOpenAiKey).substr(0, 12));
  EXPECT_EQ(keys[1].variable, "ANTHROPIC_API_KEY");
  EXPECT_EQ(keys[1].provider, "anthropic");
  for (const auto& k : keys) {
    for (const std::string& s : {k.variable, k.provider, k.fingerprint}) {
      EXPECT_EQ(s.find("sk-"), std::string::npos) << "no part of a value";
    }
  }
  EXPECT_TRUE(provider_keys_in("").empty());
  EXPECT_TRUE(provider_keys_in("OPENAI_API_KEY").empty());
  EXPECT_EQ(provider_keys_in("OPENAI_API_KEY=abc").size(), 1u) << "no trailing NUL";
}

TEST(EnvironmentKeys, ScansAProcTree) {
  char dir[] = "/tmp/llmtap-proc-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const fs::path proc = dir;
  auto process = [&](int pid, const std::string& comm, const std::string& environ) {
    fs::create_directories(proc / std::to_string(pid));
    std::ofstream(proc / std::to_string(pid) / "comm") << comm << "\n";
    std::ofstream(proc / std::to_string(pid) / "environ", std::ios::binary) << environ;
  };
  process(42, "python3", "LANG=C\0OPENAI_API_KEY="s + kOpenAiKey + "\0"s);
  process(7, "bash", "PATH=/bin\0"s);
  process(99, "node", "MISTRAL_API_KEY=m-key\0HF_TOKEN=hf_abc\0"s);
  fs::create_directories(proc / "self");
  fs::create_directories(proc / "1234");  // no environ: unreadable (a process that is gone)
  size_t unreadable = 0;
  const auto found = processes_with_provider_keys(proc.string(), &unreadable);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].pid, 42u);
  EXPECT_EQ(found[0].comm, "python3");
  ASSERT_EQ(found[0].keys.size(), 1u);
  EXPECT_EQ(found[0].keys[0].provider, "openai");
  EXPECT_EQ(found[1].pid, 99u);
  ASSERT_EQ(found[1].keys.size(), 2u);
  EXPECT_EQ(found[1].keys[0].provider, "mistral");
  EXPECT_EQ(found[1].keys[1].provider, "huggingface");
  EXPECT_EQ(unreadable, 1u);
  fs::remove_all(proc);
}

}  // namespace
}  // namespace llmtap::audit
