#pragma once
// The recorded-exchange corpus (tests/data/corpus/<provider>/<case>.json): loads one case and
// builds the exact bytes a client and server would put on the wire for it, so tests can replay
// it through the HTTP and LLM stages or serve it from a TLS server.
//
// Case file: {"description", "request": {method, host, path, headers, body | body_text},
//   "response": {status, headers, content_encoding?: gzip|deflate|br|zstd,
//                transfer?: chunked|length, chunk_size?,
//                one of: body | body_text | sse | ndjson | json_array | aws_event_stream},
//   "expect": {...}}.
// aws_event_stream events have "headers" and one of "payload" (JSON), "payload_text", or
// "chunk" (JSON of a model-native Bedrock chunk, sent as {"bytes": "<base64>"}).

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "llm/stream/stream_event.h"

namespace llmtap::testing {

struct CorpusExpect {
  std::string provider, api, request_model, response_model;
  bool stream = false;
  int status = 0;
  std::optional<uint64_t> input_tokens, output_tokens, total_tokens, cached_tokens,
      reasoning_tokens;
  std::optional<std::string> error_type;
};

struct CorpusCase {
  std::string name;  // "<provider dir>/<file stem>", e.g. "openai/chat_stream_include_usage"
  std::string host;
  std::string method;
  std::string path;
  std::string request_bytes;            // request line, Host, headers, Content-Length, body
  std::string response_bytes;           // status line, headers, framed and encoded body
  std::string response_body_unencoded;  // the body before content and transfer coding
  std::string response_content_type;
  CorpusExpect expect;
  nlohmann::json raw;  // the whole case file

  std::string request_body;  // the request body as sent
  // The response's framing ("" for a plain body, "sse", "ndjson", "json_array",
  // "aws_event_stream") and its events as a correct de-framer would produce them.
  std::string response_framing;
  std::vector<llm::StreamEvent> stream_events;
};

// Throws std::runtime_error naming the file when it cannot be read or is malformed.
CorpusCase load_corpus_case(const std::filesystem::path& file);

// Every *.json case under `dir` (recursively), sorted.
std::vector<std::filesystem::path> corpus_case_files(const std::filesystem::path& dir);

// Building blocks, exposed for tests of the framers.
std::string encode_content(const std::string& body, const std::string& coding);  // throws
std::string encode_chunked(const std::string& body, size_t chunk_size);
// One AWS event-stream message: prelude, string headers, payload, both CRC32s.
std::string encode_aws_event_message(
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& payload);
std::string base64_encode(const std::string& bytes);

// "OK", "Service Unavailable", ...: the reason phrase test servers answer a status with.
std::string http_reason_phrase(int status);

}  // namespace llmtap::testing
