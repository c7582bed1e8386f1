#include "enrich/process_identity_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "enrich/command_line_redaction.h"

namespace llmtap::enrich {
namespace {

namespace fs = std::filesystem;

class FakeProc : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("llmtap-fake-proc-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void add_process(uint32_t pid, const std::string& exe, const std::string& cmdline) {
    const fs::path dir = root_ / std::to_string(pid);
    fs::create_directories(dir);
    fs::create_symlink(exe, dir / "exe");
    std::ofstream(dir / "cmdline", std::ios::binary) << cmdline;
  }

  fs::path root_;
};

TEST_F(FakeProc, ReadsExeAndCommandLineOnceAndTakesCaptureFieldsEachTime) {
  add_process(42, "/usr/bin/python3.11",
              std::string("python3\0app.py\0--port\0"
                          "8080\0",
                          27));
  ProcessIdentityCache cache(root_.string());
  const auto& first = cache.lookup(42, 1000, 77, "python3");
  EXPECT_EQ(first.pid, 42u);
  EXPECT_EQ(first.exe, "/usr/bin/python3.11");
  EXPECT_EQ(first.cmdline, "python3 app.py --port 8080");
  EXPECT_EQ(first.uid, 1000u);
  EXPECT_EQ(first.cgroup_id, 77u);
  EXPECT_EQ(first.comm, "python3");

  const auto& again = cache.lookup(42, 0, 78, "worker");
  EXPECT_EQ(again.uid, 0u);
  EXPECT_EQ(again.cgroup_id, 78u);
  EXPECT_EQ(again.comm, "worker");
  EXPECT_EQ(cache.proc_reads(), 1u);
}

TEST_F(FakeProc, AVanishedProcessHasEmptyFieldsAndForgetRereads) {
  ProcessIdentityCache cache(root_.string());
  EXPECT_EQ(cache.lookup(7, 0, 0, "gone").exe, "");
  EXPECT_EQ(cache.lookup(7, 0, 0, "gone").cmdline, "");
  add_process(7, "/bin/node", std::string("node\0", 5));
  cache.forget(7);
  EXPECT_EQ(cache.lookup(7, 0, 0, "node").exe, "/bin/node");
  EXPECT_EQ(cache.proc_reads(), 2u);
}

TEST_F(FakeProc, AnExecIsNoticedByItsNewNameAndExecutable) {
  add_process(11, "/bin/bash", std::string("bash\0run.sh\0", 12));
  ProcessIdentityCache cache(root_.string());
  EXPECT_EQ(cache.lookup(11, 0, 0, "bash").exe, "/bin/bash");
  // The same pid execs python3: /proc changes, and so does the name the capture reports.
  fs::remove_all(root_ / "11");
  add_process(11, "/usr/bin/python3", std::string("python3\0agent.py\0", 17));
  const auto& after = cache.lookup(11, 0, 0, "python3");
  EXPECT_EQ(after.exe, "/usr/bin/python3");
  EXPECT_EQ(after.cmdline, "python3 agent.py");
  // Another thread's name alone (same executable) re-reads nothing but the link.
  const uint64_t reads = cache.proc_reads();
  cache.lookup(11, 0, 0, "worker-3");
  EXPECT_EQ(cache.proc_reads(), reads);
}

TEST_F(FakeProc, CommandLineIsCutToItsLimit) {
  add_process(9, "/bin/x", std::string(5000, 'a'));
  ProcessIdentityCache cache(root_.string(), 10, 100);
  EXPECT_EQ(cache.lookup(9, 0, 0, "x").cmdline.size(), 100u);
}

TEST_F(FakeProc, StaysBoundedWhenExitsAreMissed) {
  ProcessIdentityCache cache(root_.string(), 4);
  for (uint32_t pid = 1; pid <= 10; ++pid) cache.lookup(pid, 0, 0, "p");
  EXPECT_LE(cache.size(), 4u);
  EXPECT_GT(cache.evictions(), 0u);
}

TEST(CommandLineRedaction, RedactsSecretFlagValuesAndKeyShapedArguments) {
  EXPECT_EQ(redact_command_line({"app", "--api-key", "abc", "--model", "gpt-4o"}),
            "app --api-key [REDACTED] --model gpt-4o");
  EXPECT_EQ(redact_command_line({"app", "--OPENAI_API_KEY=abc", "--port=1"}),
            "app --OPENAI_API_KEY=[REDACTED] --port=1");
  EXPECT_EQ(redact_command_line({"app", "sk-proj-1234567890abcdef"}), "app [REDACTED]");
  EXPECT_EQ(redact_command_line({"aws", "--token"}), "aws --token");
  EXPECT_EQ(redact_command_line({}), "");
}

TEST(CommandLineRedaction, CurlStyleCredentialsAreRedacted) {
  EXPECT_EQ(redact_command_line({"curl", "-H", "Authorization: Bearer sk-proj-SECRETSECRET",
                                 "https://api.openai.com/v1/models"}),
            "curl -H Authorization: [REDACTED] https://api.openai.com/v1/models");
  EXPECT_EQ(redact_command_line({"curl", "-H", "x-api-key: sk-ant-SECRETSECRET", "-H",
                                 "content-type: application/json"}),
            "curl -H x-api-key: [REDACTED] -H content-type: application/json");
  EXPECT_EQ(redact_command_line({"curl", "-u", "user:SECRETPASS", "https://h/"}),
            "curl -u [REDACTED] https://h/");
  EXPECT_EQ(
      redact_command_line(
          {"curl",
           "https://g.googleapis.com/v1beta/models/m:generateContent?key=AIzaSECRET&alt=sse"}),
      "curl https://g.googleapis.com/v1beta/models/m:generateContent?key=[REDACTED]&alt=sse");
  EXPECT_EQ(redact_command_line({"app", "--header=Bearer", "OPENAI=sk-proj-SECRETSECRETSECRET"}),
            "app --header=Bearer OPENAI=[REDACTED]");
}

TEST(CommandLineRedaction, OrdinaryArgumentsAreLeftAlone) {
  EXPECT_EQ(redact_command_line({"app", "--max-tokens", "100", "--task-1", "risk-assessment"}),
            "app --max-tokens 100 --task-1 risk-assessment");
  EXPECT_EQ(redact_command_line({"node", "server.js", "--keys-file", "k.json"}),
            "node server.js --keys-file k.json");
}

}  // namespace
}  // namespace llmtap::enrich
