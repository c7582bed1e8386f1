// End to end over HTTP/2, as root: curl (libssl + nghttp2) and node's builtin http2 client call
// a local h2-only TLS server (tests/clients/h2_server.js) that replays corpus responses, while
// the real `llmtap daemon` runs host-wide. Every request, sequential or multiplexed on one
// connection, must give one record naming the right provider, model and tokens.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "bpf_gate.h"
#include "child_process.h"
#include "corpus_wire.h"
#include "e2e_fixture.h"
#include "llm_records.h"
#include "self_signed_certificate.h"

namespace llmtap::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Record = LlmRecord;

// As every daemon record of a case, and over HTTP/2.
void expect_matches_case(const Record& r, const testing::CorpusCase& c) {
  expect_record_matches_case(r, c);
  EXPECT_EQ(r.http_version, "HTTP/2") << c.name;
}

// Multiplexed streams complete in any order: pair records with cases by what the request
// alone decides (API, model, streaming), which the cases of one test keep distinct.
std::string request_key(const std::string& api, const std::string& model, bool stream) {
  return api + " " + model + (stream ? " stream" : "");
}

void expect_matches_cases_in_any_order(const std::vector<Record>& records,
                                       const std::vector<testing::CorpusCase>& cases) {
  ASSERT_EQ(records.size(), cases.size());
  std::multimap<std::string, const Record*> by_key;
  for (const Record& r : records) {
    by_key.emplace(request_key(r.api, r.request_model, r.stream), &r);
  }
  for (const testing::CorpusCase& c : cases) {
    const auto it = by_key.find(request_key(c.expect.api, c.expect.request_model, c.expect.stream));
    if (it == by_key.end()) {
      ADD_FAILURE() << "no record for " << c.name;
      continue;
    }
    expect_matches_case(*it->second, c);
    by_key.erase(it);
  }
}

// The h2-only replay server, on an ephemeral port.
class H2Server {
 public:
  explicit H2Server(const fs::path& dir)
      : process_({node_path(), source_path("tests/clients/h2_server.js"), "--cert",
                  dir / "cert.pem", "--key", dir / "key.pem", "--corpus-dir", corpus_dir()}) {
    process_.release();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    const std::string prefix = "listening on ";
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string out = read_file(process_.out_path());
      if (out.starts_with(prefix) && out.find('\n') != std::string::npos) {
        port_ = static_cast<uint16_t>(std::stoi(out.substr(prefix.size())));
        return;
      }
      if (process_.poll_exit()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("h2_server.js did not start: " + read_file(process_.err_path()));
  }
  ~H2Server() { process_.stop(SIGTERM, std::chrono::seconds(5)); }
  uint16_t port() const { return port_; }
  std::string errors() const { return read_file(process_.err_path()); }

 private:
  ChildProcess process_;
  uint16_t port_ = 0;
};

class Http2E2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static int counter = 0;
    dir_ = fs::temp_directory_path() /
           ("llmtap-h2-e2e-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(dir_);
    if (geteuid() != 0) return;
    try {
      if (node_path().empty()) throw std::runtime_error("node is not installed");
      testing::write_self_signed_certificate(dir_ / "cert.pem", dir_ / "key.pem");
      server_ = new H2Server(dir_);
      daemon_ = new TraceSession({}, std::chrono::seconds(30), {}, "daemon");
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
    delete server_;
    server_ = nullptr;
    fs::remove_all(dir_);
  }
  void SetUp() override {
    LLMTAP_REQUIRE_ROOT();
    if (daemon_ == nullptr) LLMTAP_BPF_UNAVAILABLE(start_error_);
  }
  void TearDown() override {
    if (HasFailure() && daemon_ != nullptr) {
      ADD_FAILURE() << "daemon stderr:\n"
                    << daemon_->stderr_text() << "\nserver stderr:\n"
                    << server_->errors();
    }
  }

  static std::vector<Record> records_for(pid_t pid) { return llm_records_for(*daemon_, pid); }
  static std::vector<Record> wait_for_records(
      pid_t pid, size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return wait_for_llm_records(*daemon_, pid, count, timeout);
  }

  // One curl run, one request per case on one h2 connection: `--next` groups share curl's
  // connection cache, and `--parallel` multiplexes them as concurrent streams. `--resolve`
  // keeps the provider's host in SNI and :authority while connecting to the local server.
  // Each request prints its HTTP version on its own line.
  static std::vector<std::string> curl_command(const std::vector<testing::CorpusCase>& cases,
                                               const std::vector<std::string>& names,
                                               bool parallel) {
    std::vector<std::string> argv = {"curl"};
    if (parallel) argv.push_back("--parallel");
    for (size_t i = 0; i < cases.size(); ++i) {
      const testing::CorpusCase& c = cases[i];
      const fs::path body = dir_ / ("body-" + std::to_string(i));
      std::ofstream(body, std::ios::binary) << c.request_body;
      const std::string authority = c.host + ":" + std::to_string(server_->port());
      if (i > 0) argv.push_back("--next");
      argv.insert(argv.end(), {"--http2", "-sSk", "--resolve", authority + ":127.0.0.1", "-o",
                               "/dev/null", "-w", "%{http_version}\\n", "-X", c.method, "-H",
                               "x-llmtap-case: " + names[i], "--data-binary", "@" + body.string()});
      // A copy: items() of the temporary value() returns would dangle.
      const json headers = c.raw.at("request").value("headers", json::object());
      for (const auto& [name, value] : headers.items()) {
        argv.push_back("-H");
        argv.push_back(name + ": " + value.get<std::string>());
      }
      argv.push_back("https://" + authority + c.path);
    }
    return argv;
  }

  static std::vector<testing::CorpusCase> load_cases(const std::vector<std::string>& names) {
    std::vector<testing::CorpusCase> cases;
    for (const std::string& name : names) {
      cases.push_back(testing::load_corpus_case(corpus_dir() / name));
    }
    return cases;
  }

  // Runs curl over one h2 connection and returns its records (all on that connection).
  static std::vector<Record> run_curl(const std::vector<std::string>& names, bool parallel) {
    const auto cases = load_cases(names);
    pid_t pid = -1;
    const ChildResult result = run_child(curl_command(cases, names, parallel), &pid);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    std::string versions;
    for (size_t i = 0; i < names.size(); ++i) versions += "2\n";
    EXPECT_EQ(result.out, versions) << "every response came back over HTTP/2";
    auto records = wait_for_records(pid, names.size());
    for (const Record& r : records) {
      EXPECT_EQ(r.comm, "curl");
      EXPECT_EQ(r.conn_uid, records.front().conn_uid) << "one h2 connection";
    }
    // Linger so a duplicate record would show up as one too many.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return records_for(pid);
  }

  static inline fs::path dir_;
  static inline H2Server* server_ = nullptr;
  static inline TraceSession* daemon_ = nullptr;
  static inline std::string start_error_;
};

TEST_F(Http2E2E, CurlSequentialRequestsOnOneConnectionGiveOneRecordEach) {
  const std::vector<std::string> names = {
      "openai/chat_basic.json", "openai/chat_stream_include_usage.json",
      "openai/completions_legacy.json", "openai/responses_stream.json", "openai/chat_basic.json"};
  const auto records = run_curl(names, /*parallel=*/false);
  ASSERT_EQ(records.size(), names.size());
  const auto cases = load_cases(names);
  for (size_t i = 0; i < names.size(); ++i) expect_matches_case(records[i], cases[i]);
}

TEST_F(Http2E2E, CurlMultiplexedStreamsGiveOneRecordEach) {
  // Streamed answers trickle out event by event, so the streams interleave on the connection.
  const std::vector<std::string> names = {
      "openai/chat_stream_include_usage.json", "openai/responses_stream.json",
      "openai/chat_stream_no_usage.json", "openai/chat_basic.json",
      "openai/responses_reasoning.json"};
  const auto records = run_curl(names, /*parallel=*/true);
  expect_matches_cases_in_any_order(records, load_cases(names));
  bool overlap = false;  // the calls really were in flight at once
  for (const Record& a : records) {
    for (const Record& b : records) {
      overlap |= &a != &b && a.event.at("start_time") <= b.event.at("start_time") &&
                 b.event.at("start_time") < a.event.at("end_time");
    }
  }
  EXPECT_TRUE(overlap) << "no two streams overlapped";
}

TEST_F(Http2E2E, CompressedResponsesGiveTheirTokens) {
  const std::vector<std::string> names = {
      "openai/chat_cached_gzip.json", "openai/chat_reasoning_br.json",
      "openai/embeddings_gzip_chunked.json", "openai/chat_error_429_gzip.json"};
  const auto records = run_curl(names, /*parallel=*/false);
  ASSERT_EQ(records.size(), names.size());
  const auto cases = load_cases(names);
  for (size_t i = 0; i < names.size(); ++i) expect_matches_case(records[i], cases[i]);
}

TEST_F(Http2E2E, NodeConcurrentStreamsOnOneSessionGiveOneRecordEach) {
  const std::vector<std::string> names = {
      "openai/chat_basic.json", "openai/chat_stream_include_usage.json",
      "openai/responses_stream.json", "openai/chat_cached_gzip.json"};
  constexpr int kRepeat = 3;
  std::vector<std::string> argv = {node_path(),    source_path("tests/clients/h2_client.js"),
                                   "--port",       std::to_string(server_->port()),
                                   "--corpus-dir", corpus_dir(),
                                   "--repeat",     std::to_string(kRepeat)};
  argv.insert(argv.end(), names.begin(), names.end());
  pid_t pid = -1;
  const ChildResult result = run_child(argv, &pid);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const json summary = json::parse(result.out);
  EXPECT_EQ(summary.at("alpn"), "h2");

  std::vector<testing::CorpusCase> cases;
  for (int i = 0; i < kRepeat; ++i) {
    for (auto& c : load_cases(names)) cases.push_back(std::move(c));
  }
  wait_for_records(pid, cases.size());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a duplicate would show
  const auto records = records_for(pid);
  expect_matches_cases_in_any_order(records, cases);
  for (const Record& r : records) {
    EXPECT_EQ(r.comm, "node");
    EXPECT_EQ(r.conn_uid, records.front().conn_uid) << "one h2 session";
  }
}

}  // namespace
}  // namespace llmtap::e2e
