#pragma once
// A small, forgiving reader over simdjson's DOM for response bodies and stream events: they
// are small and their fields come in any order, so a random-access tree is the simple fit.
// Request bodies, which can be megabytes, go through On-Demand instead (request_extractor.cpp).

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace llmtap::llm {

using JsonElement = simdjson::dom::element;
using JsonArray = simdjson::dom::array;

// Owns a parser and its buffers while it lives; the root stays valid until the next parse.
// Parsers are reused: each thread keeps a few (of modest size) between JsonDoms, so reading a
// response costs no allocation of parser buffers.
class JsonDom {
 public:
  JsonDom();
  ~JsonDom();
  JsonDom(const JsonDom&) = delete;
  JsonDom& operator=(const JsonDom&) = delete;

  // Parses `text`; when simdjson rejects it, retries once on a salvaged copy (see
  // json_salvage.h). Returns false with error() set when neither could be read.
  bool parse(std::string_view text);
  JsonElement root() const { return root_; }
  const std::string& error() const { return error_; }
  const std::string& repairs() const { return repairs_; }  // empty when read as is

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
  JsonElement root_;
  std::string error_;
  std::string repairs_;
};

// Field access by JSON pointer ("/usage/prompt_tokens"); absent or wrongly typed fields read
// as nothing, never as an error: providers vary and we take what is there.
std::optional<JsonElement> element_at(JsonElement e, std::string_view pointer);
std::string_view string_at(JsonElement e, std::string_view pointer);
// A token count: a non-negative integer, or a double holding one (some servers send 12.0).
std::optional<uint64_t> count_at(JsonElement e, std::string_view pointer);
std::optional<bool> bool_at(JsonElement e, std::string_view pointer);
// A string, or an integer written as text (error codes come as either).
std::string code_at(JsonElement e, std::string_view pointer);
// `e` as an array, copied out of simdjson's result (a range-for over the temporary result
// would dangle). Call only after is_array(e).
JsonArray as_array(JsonElement e);
bool is_object(JsonElement e);
bool is_array(JsonElement e);

}  // namespace llmtap::llm
