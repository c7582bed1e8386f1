#include "llm_records.h"

#include <gtest/gtest.h>

#include <thread>
#include <utility>

#include "e2e_fixture.h"
#include "llm/llm_call_builder.h"

namespace llmtap::e2e {

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) break;
    if (end > start) {
      out.push_back(nlohmann::json::parse(text.substr(start, end - start), nullptr, false));
    }
    start = end + 1;
  }
  return out;
}
namespace {

using nlohmann::json;

std::optional<uint64_t> optional_count(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key)) return std::nullopt;
  return object.at(key).get<uint64_t>();
}

}  // namespace

std::filesystem::path corpus_dir() { return source_path("tests/data/corpus"); }

LlmRecord to_llm_record(const json& e) {
  LlmRecord r;
  r.event = e;
  const json& process = e.at("actor").at("process");
  r.pid = process.at("pid").get<uint32_t>();
  r.comm = process.value("name", "");
  const json& llm = e.at("unmapped").at("llmtap");
  r.provider = llm.value("provider", "");
  r.api = llm.value("api", "");
  r.request_model = llm.value("request_model", "");
  r.response_model = llm.value("response_model", "");
  r.stream = llm.value("stream", false);
  if (e.contains("http_response")) r.status = e.at("http_response").value("code", 0);
  if (e.contains("http_request")) r.http_version = e.at("http_request").value("version", "");
  const json context = e.value("message_context", json::object());
  r.input_tokens = optional_count(context, "prompt_tokens");
  r.output_tokens = optional_count(context, "completion_tokens");
  r.total_tokens = optional_count(context, "total_tokens");
  r.cached_tokens = optional_count(llm, "cached_tokens");
  r.reasoning_tokens = optional_count(llm, "reasoning_tokens");
  if (llm.contains("error_type")) r.error_type = llm.at("error_type").get<std::string>();
  r.server_name = e.at("dst_endpoint").value("hostname", "");
  r.conn_uid = e.at("connection_info").at("uid").dump();
  return r;
}

std::vector<LlmRecord> llm_records_for(const TraceSession& daemon, pid_t pid) {
  std::vector<LlmRecord> mine;
  for (const json& e : daemon.json_lines()) {
    if (e.value("class_uid", 0) != 4002) continue;
    LlmRecord r = to_llm_record(e);
    if (r.pid == static_cast<uint32_t>(pid)) mine.push_back(std::move(r));
  }
  return mine;
}

std::vector<LlmRecord> wait_for_llm_records(const TraceSession& daemon, pid_t pid, size_t count,
                                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto mine = llm_records_for(daemon, pid);
    if (mine.size() >= count || std::chrono::steady_clock::now() > deadline) return mine;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void expect_record_matches_case(const LlmRecord& r, const testing::CorpusCase& c,
                                std::optional<std::string> server_name) {
  const testing::CorpusExpect& x = c.expect;
  SCOPED_TRACE(c.name);
  EXPECT_EQ(r.provider, x.provider);
  EXPECT_EQ(r.api, x.api);
  EXPECT_EQ(r.request_model, x.request_model);
  EXPECT_EQ(r.response_model, x.response_model);
  EXPECT_EQ(r.stream, x.stream);
  EXPECT_EQ(r.status, x.status);
  EXPECT_EQ(r.input_tokens, x.input_tokens);
  EXPECT_EQ(r.output_tokens, x.output_tokens);
  EXPECT_EQ(r.total_tokens, x.total_tokens);
  EXPECT_EQ(r.cached_tokens, x.cached_tokens);
  EXPECT_EQ(r.reasoning_tokens, x.reasoning_tokens);
  EXPECT_EQ(r.error_type, x.error_type);
  EXPECT_EQ(r.server_name, server_name.value_or(llm::host_without_port(c.host)));
}

}  // namespace llmtap::e2e
