#include "action/request_judge.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <random>

#include "policy/policy_loader.h"

namespace llmtap::action {
namespace {

using policy::Action;

constexpr const char* kCatalog = R"(version: 1
entries:
  - id: test-local-openai
    provider: openai
    hosts: ["127.0.0.1"]
    routes:
      - {path: /v1/chat/completions, family: openai.chat_completions}
)";

constexpr const char* kPolicy = R"(rules:
  - id: hold-keys
    action: hold
    data: {detectors: ["aws-*"]}
  - id: kill-deepseek
    action: kill-connection
    model: {deny: [{models: ["deepseek*"]}]}
  - id: alert-cards
    data: {detectors: ["payment-card"]}
  - id: audit-keys
    action: hold
    mode: audit
    data: {detectors: ["github-*"]}
)";

const std::string kAwsKeyId = "AKIA2OGYBAH6RVPSVMXQ";

std::shared_ptr<const policy::CompiledPolicy> compiled() {
  policy::Policy p;
  policy::read_policy_file(kPolicy, "test.yaml", p);
  std::vector<policy::PolicyProblem> problems;
  return policy::compile_policy(std::move(p), {}, problems);
}

class RequestJudgeTest : public ::testing::Test {
 protected:
  RequestJudgeTest()
      : catalog_(llm::ProviderCatalog::from_yaml(kCatalog, "catalog.yaml")),
        policy_(compiled()),
        processes_("/proc") {}

  capture::TlsCall write(std::string_view data, uint64_t conn = 7, uint64_t ssl = 0x1000) {
    capture::TlsCall c;
    c.pid = static_cast<uint32_t>(getpid());
    c.ssl = ssl;
    c.conn_id = conn;
    c.direction = capture::Direction::kWrite;
    c.comm = "client";
    c.mono_ns = 1;
    c.data = data;
    return c;
  }

  static std::string request(const std::string& body) {
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
           "application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  static std::string chat(const std::string& model, const std::string& prompt) {
    return R"({"model":")" + model + R"(","messages":[{"role":"user","content":")" + prompt +
           R"("}]})";
  }

  llm::ProviderCatalog catalog_;
  std::shared_ptr<const policy::CompiledPolicy> policy_;
  enrich::ProcessIdentityCache processes_;
};

TEST_F(RequestJudgeTest, ASecretInTheBodyBlocksTheWriteThatCarriesIt) {
  RequestJudge judge(catalog_, policy_, processes_, "t", {Action::kHold});
  const std::string req = request(chat("gpt-4o", "key " + kAwsKeyId));
  const size_t head = req.find("\r\n\r\n") + 4;
  // The head alone: nothing to block yet.
  const RequestVerdict first = judge.judge(write(req.substr(0, head)), 0);
  EXPECT_FALSE(first.block);
  // The body: blocked, by the hold rule only, on the whole request.
  const RequestVerdict second = judge.judge(write(req.substr(head)), 0);
  ASSERT_TRUE(second.block);
  EXPECT_TRUE(second.whole_request);
  ASSERT_EQ(second.findings.size(), 1u);
  EXPECT_EQ(second.findings[0].rule_id, "hold-keys");
  EXPECT_EQ(second.call.provider, "openai");
  EXPECT_EQ(second.call.conn_id, 7u);
  // The same secret again on the same keep-alive connection blocks again (no dedupe).
  EXPECT_TRUE(judge.judge(write(req), 0).block);
}

TEST_F(RequestJudgeTest, APartOfALargeBodyIsJudgedOnWhatIsHeld) {
  RequestJudge judge(catalog_, policy_, processes_, "t", {Action::kHold});
  const std::string req = request(
      chat("gpt-4o", std::string(5000, 'a') + " key " + kAwsKeyId + " " + std::string(5000, 'b')));
  const size_t cut = req.find(kAwsKeyId) + kAwsKeyId.size() + 10;
  const RequestVerdict v = judge.judge(write(req.substr(0, cut)), 0);
  ASSERT_TRUE(v.block);
  EXPECT_FALSE(v.whole_request);
}

TEST_F(RequestJudgeTest, ASecretSplitBetweenTwoWritesIsCaughtAndTheHeadIsNotJudged) {
  RequestJudge judge(catalog_, policy_, processes_, "t", {Action::kHold});
  const std::string req =
      request(chat("gpt-4o", std::string(20000, 'a') + " aws_access_key_id=" + kAwsKeyId + " " +
                                 std::string(20000, 'b')));
  const size_t split = req.find(kAwsKeyId) + 8;  // inside the key
  // The head carries an API key of its own (Authorization): never a reason to block.
  const std::string head_with_key =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer sk-proj-" +
      std::string(48, 'Q') + "\r\n";
  EXPECT_FALSE(judge.judge(write(head_with_key, 40, 0x4000), 0).block);
  RequestJudge fresh(catalog_, policy_, processes_, "t", {Action::kHold});
  EXPECT_FALSE(fresh.judge(write(req.substr(0, split), 41, 0x4100), 0).block);
  const RequestVerdict second = fresh.judge(write(req.substr(split, 100), 41, 0x4100), 0);
  EXPECT_TRUE(second.block);
  EXPECT_FALSE(second.whole_request);
}

TEST_F(RequestJudgeTest, TheEarlyJudgeReadsOnlyLlmCallsAsThePipelineDoes) {
  RequestJudge early(catalog_, policy_, processes_, "t", {Action::kHold},
                     /*all_requests=*/false);
  const std::string body = chat("gpt-4o", "key " + kAwsKeyId);
  const std::string upload =
      "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  const RequestVerdict v = early.judge(write(upload, 60, 0x6000), 0);
  EXPECT_FALSE(v.block);
  EXPECT_TRUE(v.not_llm);
  EXPECT_TRUE(early.judge(write(request(body), 61, 0x6100), 0).block);
  // Held writes read every request to an LLM server (an upload there is data leaving too).
  RequestJudge held(catalog_, policy_, processes_, "t", {Action::kHold});
  EXPECT_TRUE(held.judge(write(upload, 62, 0x6200), 0).block);
}

TEST_F(RequestJudgeTest, OnlyTheJudgesActionsCountAndAuditRulesNever) {
  RequestJudge held(catalog_, policy_, processes_, "t", {Action::kHold});
  RequestJudge early(catalog_, policy_, processes_, "t", {Action::kKillConnection});
  const std::string deepseek = request(chat("deepseek-r1", "card 4111 1111 1111 1111"));
  EXPECT_FALSE(held.judge(write(deepseek), 0).block);  // kill-connection is not a hold rule
  const RequestVerdict v = early.judge(write(deepseek, 8), 0);
  ASSERT_TRUE(v.block);
  ASSERT_EQ(v.findings.size(), 1u);  // the card rule only alerts
  EXPECT_EQ(v.findings[0].rule_id, "kill-deepseek");
  // A rule in audit mode never blocks.
  const std::string github = request(chat("gpt-4o", "ghp_" + std::string(36, 'x')));
  EXPECT_FALSE(held.judge(write(github, 9), 0).block);
  EXPECT_TRUE(RequestJudge::acts(*policy_, {Action::kHold}));
  EXPECT_FALSE(RequestJudge::acts(*policy_, {Action::kKillProcess}));
}

TEST_F(RequestJudgeTest, AServersWritesAreNotJudgedButHttp2BytesAre) {
  RequestJudge judge(catalog_, policy_, processes_, "t", {Action::kHold});
  const std::string response =
      "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n{\"echo\":\"" + kAwsKeyId + "\"}";
  EXPECT_FALSE(judge.judge(write(response, 10), 0).block);
  EXPECT_EQ(judge.stats().not_requests, 1u);
  // HTTP/2: the preface, then frames whose DATA carries JSON: the raw bytes are judged.
  RequestVerdict v = judge.judge(write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 11), 0);
  EXPECT_FALSE(v.block);
  v = judge.judge(
      write(std::string("\0\0\x20\0\1\0\0\0\1", 9) + "{\"k\":\"" + kAwsKeyId + "\"}", 11), 0);
  EXPECT_TRUE(v.block);
}

TEST_F(RequestJudgeTest, AProcessOutOfEveryRulesScopeIsNotJudged) {
  policy::Policy p;
  policy::read_policy_file(R"(rules:
  - id: hold-keys
    action: hold
    scope: {processes: ["curl"]}
    data: {detectors: ["aws-*"]}
)",
                           "scoped.yaml", p);
  std::vector<policy::PolicyProblem> problems;
  RequestJudge judge(catalog_, policy::compile_policy(std::move(p), {}, problems), processes_, "t",
                     {Action::kHold});
  const RequestVerdict v = judge.judge(write(request(chat("gpt-4o", "key " + kAwsKeyId))), 0);
  EXPECT_TRUE(v.out_of_scope);  // this test's process is not curl
  EXPECT_FALSE(v.block);
  // In scope, the same request blocks.
  RequestJudge all(catalog_, policy_, processes_, "t", {Action::kHold});
  const RequestVerdict in = all.judge(write(request(chat("gpt-4o", "key " + kAwsKeyId))), 0);
  EXPECT_FALSE(in.out_of_scope);
  EXPECT_TRUE(in.block);
}

// Hostile bytes on a held connection: judged (or skipped), never a crash, never a stall.
TEST_F(RequestJudgeTest, GarbageAndHugeWritesAreJudgedNotCrashedOn) {
  RequestJudge judge(catalog_, policy_, processes_, "t", {Action::kHold});
  std::mt19937 random(3);
  std::string chunk(4096, '\0');
  for (int i = 0; i < 2000; ++i) {
    for (char& c : chunk) c = static_cast<char>(random());
    // Half the connections start like a request, so garbage reaches the framer too.
    const std::string data = (i % 2 == 0 ? "POST /v1/chat/completions HTTP/1.1\r\n" : "") + chunk;
    EXPECT_NO_THROW(judge.judge(
        write(data, 100 + static_cast<uint64_t>(i % 7), 0x2000 + static_cast<uint64_t>(i % 7)), 0));
  }
  // A 50 MB body declared and sent in 1 MiB pieces: judged piece by piece, kept bounded.
  const std::string head =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 52428800\r\n\r\n";
  EXPECT_FALSE(judge.judge(write(head, 500, 0x3000), 0).block);
  const std::string piece(1 << 20, 'x');
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(judge.judge(write(piece, 500, 0x3000), 0).block);
  }
  EXPECT_GE(judge.stats().judged, 2051u);
}

}  // namespace
}  // namespace llmtap::action
