#pragma once
// LLM records as `llmtap daemon` writes them (OCSF HTTP Activity lines), read back for the
// end-to-end tests, and checked against the corpus case that produced them.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "corpus_wire.h"
#include "trace_session.h"

namespace llmtap::e2e {

std::filesystem::path corpus_dir();  // tests/data/corpus

// Each complete line of `text` parsed as JSON (a line that is not JSON is a discarded value).
std::vector<nlohmann::json> json_lines(const std::string& text);

// A user catalog (no rebuild) naming 127.0.0.1 as OpenAI and Anthropic, for clients that call
// the local test servers as if they were those providers.
inline constexpr const char* kLocalLlmCatalog = R"(version: 1
entries:
  - id: test-local-anthropic
    provider: anthropic
    hosts: ["127.0.0.1"]
    routes:
      - {path: /v1/messages, family: anthropic.messages}
  - id: test-local-openai
    provider: openai
    hosts: ["127.0.0.1"]
    routes:
      - {path: /v1/chat/completions, family: openai.chat_completions}
      - {path: /v1/responses, family: openai.responses}
      - {path: /v1/embeddings, family: openai.embeddings}
)";

// The fields a test checks, read from one OCSF HTTP Activity line.
struct LlmRecord {
  nlohmann::json event;
  uint32_t pid = 0;
  std::string comm;
  std::string provider;
  std::string api;
  std::string request_model;
  std::string response_model;
  bool stream = false;
  int status = 0;
  std::string http_version;
  std::optional<uint64_t> input_tokens;
  std::optional<uint64_t> output_tokens;
  std::optional<uint64_t> total_tokens;
  std::optional<uint64_t> cached_tokens;
  std::optional<uint64_t> reasoning_tokens;
  std::optional<std::string> error_type;
  std::string server_name;
  std::string conn_uid;
};

LlmRecord to_llm_record(const nlohmann::json& event);

// The records of `pid` the daemon has written so far, in order.
std::vector<LlmRecord> llm_records_for(const TraceSession& daemon, pid_t pid);
// Polls until `count` records of `pid` are there or `timeout` passes.
std::vector<LlmRecord> wait_for_llm_records(
    const TraceSession& daemon, pid_t pid, size_t count,
    std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Provider, API, models, stream flag, status, tokens, error type and server name as the case
// expects them (the server name is the case's host unless given).
void expect_record_matches_case(const LlmRecord& record, const testing::CorpusCase& c,
                                std::optional<std::string> server_name = std::nullopt);

}  // namespace llmtap::e2e
