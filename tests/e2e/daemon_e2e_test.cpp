// End to end, as root: real clients (python http.client, the official openai and
// @anthropic-ai/sdk npm packages) call a local TLS server that replays corpus responses while
// the real `llmtap daemon` (or `watch`) runs host-wide; its records must name the right
// provider, API, model and tokens, one per call.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>

#include "bpf_gate.h"
#include "child_process.h"
#include "corpus_replay.h"
#include "corpus_wire.h"
#include "e2e_fixture.h"
#include "llm_records.h"

namespace llmtap::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Record = LlmRecord;

class DaemonE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    replay_ = new testing::CorpusReplay(corpus_dir());
    fixture_ = new Fixture(
        "127.0.0.1", [](const testing::HttpRequest& request) { return replay_->respond(request); });
    if (geteuid() != 0) return;
    // The SDKs call 127.0.0.1: a user catalog (no rebuild) names it as OpenAI and Anthropic.
    const fs::path catalog = fixture_->dir / "local-providers.yaml";
    std::ofstream(catalog) << kLocalLlmCatalog;
    try {
      daemon_ =
          new TraceSession({"--catalog", catalog.string()}, std::chrono::seconds(30), {}, "daemon");
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    if (daemon_ != nullptr) {
      const auto summary = daemon_->stop();
      EXPECT_EQ(daemon_->exit_code(), 0) << daemon_->stderr_text();
      EXPECT_EQ(summary.at("lost_bytes"), 0u);
      delete daemon_;
      daemon_ = nullptr;
    }
    delete fixture_;
    fixture_ = nullptr;
    delete replay_;
    replay_ = nullptr;
  }
  void SetUp() override {
    LLMTAP_REQUIRE_ROOT();
    if (daemon_ == nullptr) LLMTAP_BPF_UNAVAILABLE(start_error_);
  }

  static std::vector<Record> wait_for_records(
      pid_t pid, size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return wait_for_llm_records(*daemon_, pid, count, timeout);
  }

  static std::vector<std::string> corpus_command(const std::vector<std::string>& cases,
                                                 int repeat = 1) {
    std::vector<std::string> argv = {"python3",      source_path("tests/clients/corpus_client.py"),
                                     "--port",       std::to_string(fixture_->server->port()),
                                     "--corpus-dir", corpus_dir(),
                                     "--repeat",     std::to_string(repeat)};
    argv.insert(argv.end(), cases.begin(), cases.end());
    return argv;
  }

  static inline testing::CorpusReplay* replay_ = nullptr;
  static inline Fixture* fixture_ = nullptr;
  static inline TraceSession* daemon_ = nullptr;
  static inline std::string start_error_;
};

std::vector<std::string> all_case_names() {
  std::vector<std::string> names;
  for (const fs::path& file : testing::corpus_case_files(corpus_dir())) {
    names.push_back(fs::relative(file, corpus_dir()).string());
  }
  return names;
}

TEST_F(DaemonE2E, EveryCorpusCaseThroughPythonGivesItsRecord) {
  const auto names = all_case_names();
  ASSERT_GE(names.size(), 40u);
  pid_t pid = -1;
  const ChildResult result = run_child(corpus_command(names), &pid);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto records = wait_for_records(pid, names.size());
  ASSERT_EQ(records.size(), names.size()) << daemon_->stderr_text();
  std::set<std::string> connections;
  for (size_t i = 0; i < names.size(); ++i) {
    const auto c = testing::load_corpus_case(corpus_dir() / names[i]);
    expect_record_matches_case(records[i], c);
    EXPECT_EQ(records[i].comm, "python3");
    connections.insert(records[i].conn_uid);
  }
  EXPECT_EQ(connections.size(), 1u) << "one keep-alive connection";
}

TEST_F(DaemonE2E, HundredCallsOnOneKeepAliveConnectionGiveHundredRecords) {
  const std::string name = all_case_names().front();
  pid_t pid = -1;
  const ChildResult result = run_child(corpus_command({name}, 100), &pid);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto records = wait_for_records(pid, 100);
  ASSERT_EQ(records.size(), 100u);
  const auto c = testing::load_corpus_case(corpus_dir() / name);
  for (const Record& r : records) {
    expect_record_matches_case(r, c);
    EXPECT_EQ(r.conn_uid, records.front().conn_uid);
  }
  std::set<std::string> uids;
  for (const Record& r : records) uids.insert(r.event.at("metadata").at("uid").get<std::string>());
  EXPECT_EQ(uids.size(), 100u) << "metadata.uid is unique per event";
}

TEST_F(DaemonE2E, GarbageNeverCrashesNorStallsOtherConnections) {
  const std::string name = all_case_names().front();
  ChildProcess garbage({"python3", source_path("tests/clients/garbage_client.py"), "--port",
                        std::to_string(fixture_->server->port()), "--case", name});
  garbage.release();
  // Meanwhile a well-behaved client is reported as usual.
  pid_t pid = -1;
  const ChildResult result = run_child(corpus_command({name}, 5), &pid);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(wait_for_records(pid, 5).size(), 5u);

  const ChildResult garbage_result = garbage.wait(std::chrono::seconds(120));
  ASSERT_EQ(garbage_result.exit_code, 0) << garbage_result.err;
  const auto records = wait_for_records(garbage.pid(), 5, std::chrono::seconds(30));
  // Random bytes are not a call. The half request is one, cut short; then the 50 MB call,
  // broken JSON, invalid UTF-8 and the call before the garbage.
  ASSERT_EQ(records.size(), 5u) << daemon_->stderr_text();
  EXPECT_EQ(records[0].status, 0);
  EXPECT_EQ(records[0].error_type, "incomplete");
  EXPECT_EQ(records[0].request_model, "gpt-4o");
  const Record& big = records[1];
  EXPECT_EQ(big.request_model, "gpt-4o-big");
  const json& llm = big.event.at("unmapped").at("llmtap");
  EXPECT_GT(llm.at("request_body_bytes").get<uint64_t>(), 50u << 20);
  EXPECT_TRUE(llm.value("request_truncated", false));
  EXPECT_EQ(records[2].request_model, "gpt-4o");  // broken JSON: what can be read is read
  EXPECT_TRUE(records[3].request_model.starts_with("gpt-"));  // invalid UTF-8 replaced
  EXPECT_EQ(records[4].request_model, "gpt-4o");
}

// `llmtap watch`: one readable line per call and a summary table by provider and model.
TEST(WatchE2E, ShowsOneLinePerCallAndSummaries) {
  LLMTAP_REQUIRE_ROOT();
  testing::CorpusReplay replay(corpus_dir());
  Fixture fixture("127.0.0.1", [&replay](const testing::HttpRequest& request) {
    return replay.respond(request);
  });
  std::unique_ptr<TraceSession> watch;
  try {
    watch = std::make_unique<TraceSession>(
        std::vector<std::string>{"--summary-interval", "1", "--comm", "python3", "--color",
                                 "never"},
        std::chrono::seconds(30), std::vector<std::string>{}, "watch");
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  const std::vector<std::string> cases = {"openai/chat_basic.json",
                                          "anthropic/messages_stream.json",
                                          "openai/chat_error_429_gzip.json"};
  std::vector<std::string> argv = {"python3",      source_path("tests/clients/corpus_client.py"),
                                   "--port",       std::to_string(fixture.server->port()),
                                   "--corpus-dir", corpus_dir()};
  argv.insert(argv.end(), cases.begin(), cases.end());
  const ChildResult result = run_child(argv);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // one summary window
  watch->stop();
  EXPECT_EQ(watch->exit_code(), 0) << watch->stderr_text();
  const std::string out = watch->stdout_text();
  std::istringstream lines(out);
  std::string line;
  std::vector<std::string> call_lines;
  while (std::getline(lines, line)) {
    if (line.find("python3[") != std::string::npos) call_lines.push_back(line);
  }
  ASSERT_EQ(call_lines.size(), 3u) << out;
  EXPECT_NE(call_lines[0].find("openai"), std::string::npos) << call_lines[0];
  EXPECT_NE(call_lines[0].find("gpt-4o-mini"), std::string::npos) << call_lines[0];
  EXPECT_NE(call_lines[1].find("anthropic"), std::string::npos) << call_lines[1];
  EXPECT_NE(call_lines[2].find("429"), std::string::npos) << call_lines[2];
  for (const auto& l : call_lines) EXPECT_NE(l.find("allow"), std::string::npos) << l;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << "no colour when asked for none";
  EXPECT_NE(out.find("-- last 1 s --"), std::string::npos) << out;
  EXPECT_NE(out.find("-- whole run --"), std::string::npos) << out;
  EXPECT_NE(out.find("TOTAL"), std::string::npos) << out;
}

// A TLS connection that is not HTTP is recognised and the kernel stops copying its bytes:
// they are counted (quiet_bytes), not carried into userspace.
TEST(QuietE2E, ConnectionsThatAreNotHttpStopBeingCopied) {
  LLMTAP_REQUIRE_ROOT();
  Fixture fixture;
  std::unique_ptr<TraceSession> daemon;
  try {
    daemon = std::make_unique<TraceSession>(std::vector<std::string>{"--comm", "python3"},
                                            std::chrono::seconds(30), std::vector<std::string>{},
                                            "daemon");
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  const ChildResult result =
      run_child({"python3", source_path("tests/clients/garbage_client.py"), "--port",
                 std::to_string(fixture.server->port()), "--not-http", "4"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = daemon->stop();
  EXPECT_EQ(daemon->exit_code(), 0) << daemon->stderr_text();
  EXPECT_EQ(summary.at("quieted_connections"), 1u) << daemon->stderr_text();
  EXPECT_GE(summary.at("quiet_bytes"), 4u << 20) << daemon->stderr_text();
  EXPECT_LT(summary.at("bytes"), 64u << 10) << "only the first bytes were copied";
  EXPECT_EQ(summary.at("lost_bytes"), 0u);
  EXPECT_EQ(summary.at("llm_calls"), 0u);
}

TEST(QuietE2E, ConnectionsOfOtherApisStopBeingCopiedUntilAnLlmRequest) {
  // Keep-alive connections to an internal API (POST /api/orders, 64 KiB each way): after the
  // first request the kernel stops copying them. The second client's connection then asks a
  // host the catalog does not know for a chat completion: copying resumes at its first byte
  // and the call is reported whole.
  LLMTAP_REQUIRE_ROOT();
  Fixture fixture;
  std::unique_ptr<TraceSession> daemon;
  try {
    daemon = std::make_unique<TraceSession>(std::vector<std::string>{"--comm", "python3"},
                                            std::chrono::seconds(30), std::vector<std::string>{},
                                            "daemon");
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  const std::string port = std::to_string(fixture.server->port());
  const std::string client = source_path("tests/clients/garbage_client.py");
  const ChildResult orders = run_child(
      {"python3", client, "--port", port, "--not-llm", "20", "--body-bytes", "65536"});
  ASSERT_EQ(orders.exit_code, 0) << orders.err;
  const ChildResult then_llm = run_child({"python3", client, "--port", port, "--not-llm", "20",
                                          "--body-bytes", "65536", "--then-llm",
                                          "quiet-resumed-model"});
  ASSERT_EQ(then_llm.exit_code, 0) << then_llm.err;
  const auto summary = daemon->stop();
  EXPECT_EQ(daemon->exit_code(), 0) << daemon->stderr_text();
  // 2 x 20 requests and responses of 64 KiB: all but the first exchange (and what crossed
  // while userspace decided) are counted, not copied.
  const uint64_t total = 2u * 20u * 2u * (64u << 10);
  EXPECT_GE(summary.at("quiet_bytes"), total * 8 / 10) << daemon->stderr_text();
  EXPECT_LT(summary.at("bytes"), total * 2 / 10) << "only the first exchanges were copied";
  EXPECT_EQ(summary.at("lost_bytes"), 0u);
  EXPECT_EQ(summary.at("llm_calls"), 1u) << daemon->stderr_text();
  EXPECT_NE(daemon->stdout_text().find("\"quiet-resumed-model\""), std::string::npos)
      << daemon->stdout_text();
}

// stdout's reader has stopped (its pipe is full from the start): the daemon goes on capturing,
// judging and delivering to its other sinks, and counts the stdout lines it could not write.
// (Before stdout had its backlog, the daemon waited in its first write for ever: the second
// call below never reached the file sink.)
TEST(DaemonStdoutE2E, AStoppedStdoutReaderHoldsNothingElseUp) {
  LLMTAP_REQUIRE_ROOT();
  Fixture fixture;
  StdoutPipe out;
  const int capacity = fcntl(out.write_fd(), F_SETPIPE_SZ, 1 << 20);
  ASSERT_GT(capacity, 0);
  ASSERT_EQ(fcntl(out.write_fd(), F_SETFL, O_NONBLOCK), 0);
  const std::string junk(4095, 'j');
  while (write(out.write_fd(), (junk + "\n").data(), junk.size() + 1) > 0) {
  }
  ASSERT_EQ(fcntl(out.write_fd(), F_SETFL, 0), 0);
  const std::filesystem::path file = fixture.dir / "events.jsonl";
  std::unique_ptr<TraceSession> daemon;
  try {
    daemon = std::make_unique<TraceSession>(
        std::vector<std::string>{"--comm", "python3", "--output-file", file.string(),
                                 "--stdout-backlog", "0"},
        std::chrono::seconds(30), std::vector<std::string>{}, "daemon", out.write_fd());
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  out.close_write();
  const std::string port = std::to_string(fixture.server->port());
  const std::string client = source_path("tests/clients/garbage_client.py");
  auto file_has = [&](const std::string& model) {
    for (int i = 0; i < 100; ++i) {
      std::ifstream in(file);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (text.find("\"" + model + "\"") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  for (const std::string model : {"stalled-stdout-first", "stalled-stdout-second"}) {
    const ChildResult r = run_child({"python3", client, "--port", port, "--not-llm", "1",
                                     "--then-llm", model});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(file_has(model)) << model << " never reached the file sink";
  }
  const auto summary = daemon->stop();
  EXPECT_EQ(daemon->exit_code(), 0) << daemon->stderr_text();
  EXPECT_EQ(summary.at("llm_calls"), 2u) << daemon->stderr_text();
  EXPECT_NE(daemon->stderr_text().find("not written"), std::string::npos) << daemon->stderr_text();
}

struct SdkCase {
  std::string sdk;
  std::string api;
  std::string corpus_case;
  bool stream;
};

void PrintTo(const SdkCase& c, std::ostream* os) { *os << c.sdk << " " << c.corpus_case; }

class DaemonSdkE2E : public DaemonE2E, public ::testing::WithParamInterface<SdkCase> {};

// The official npm SDKs, as an application uses them: three calls on one client (keep-alive),
// each reported with the model the SDK asked for and the tokens the SDK itself saw.
TEST_P(DaemonSdkE2E, OfficialSdkCallsAreReported) {
  const SdkCase& p = GetParam();
  if (node_path().empty()) GTEST_SKIP() << "node not installed";
  const auto c = testing::load_corpus_case(corpus_dir() / p.corpus_case);
  std::vector<std::string> argv = {"env",        "NODE_TLS_REJECT_UNAUTHORIZED=0",
                                   node_path(),  source_path("tests/clients/sdk_client.js"),
                                   "--sdk",      p.sdk,
                                   "--base-url", "https://" + fixture_->server_endpoint(),
                                   "--case",     p.corpus_case,
                                   "--model",    c.expect.request_model,
                                   "--calls",    "3"};
  if (!p.api.empty()) argv.insert(argv.end(), {"--api", p.api});
  if (p.stream) argv.push_back("--stream");
  pid_t pid = -1;
  const ChildResult result = run_child(argv, &pid);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const json seen = json::parse(result.out);
  const auto records = wait_for_records(pid, 3);
  ASSERT_EQ(records.size(), 3u) << daemon_->stderr_text();
  for (size_t i = 0; i < records.size(); ++i) {
    expect_record_matches_case(records[i], c, "127.0.0.1");
    EXPECT_EQ(records[i].comm, "node");
    const json& usage = seen.at("usage").at(i);
    if (usage.contains("prompt_tokens")) {
      EXPECT_EQ(records[i].input_tokens, usage.at("prompt_tokens").get<uint64_t>());
    } else if (usage.contains("input_tokens")) {
      EXPECT_EQ(records[i].input_tokens, usage.at("input_tokens").get<uint64_t>());
    }
    if (usage.contains("completion_tokens")) {
      EXPECT_EQ(records[i].output_tokens, usage.at("completion_tokens").get<uint64_t>());
    } else if (usage.contains("output_tokens")) {
      EXPECT_EQ(records[i].output_tokens, usage.at("output_tokens").get<uint64_t>());
    }
    const std::string ua = records[i].event.at("http_request").value("user_agent", "");
    EXPECT_NE(ua.find(p.sdk == "openai" ? "OpenAI/JS" : "Anthropic/JS"), std::string::npos) << ua;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Sdks, DaemonSdkE2E,
    ::testing::Values(SdkCase{"openai", "chat", "openai/chat_basic.json", false},
                      SdkCase{"openai", "chat", "openai/chat_stream_include_usage.json", true},
                      SdkCase{"openai", "responses", "openai/responses_stream.json", true},
                      SdkCase{"openai", "embeddings", "openai/embeddings_gzip_chunked.json", false},
                      SdkCase{"anthropic", "", "anthropic/messages_basic.json", false},
                      SdkCase{"anthropic", "", "anthropic/messages_stream.json", true},
                      SdkCase{"anthropic", "", "anthropic/messages_prompt_cache_gzip.json", false}),
    [](const ::testing::TestParamInfo<SdkCase>& info) {
      std::string name = info.param.corpus_case.substr(0, info.param.corpus_case.find('.'));
      for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

}  // namespace
}  // namespace llmtap::e2e
