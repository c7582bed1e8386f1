#include "llm_call_bodies.h"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace llmtap::bench {
namespace {

const char* const kWords[] = {"planning", "budget",   "roadmap",   "hiring",   "launch",  "review",
                              "design",   "incident", "quarterly", "customer", "pricing", "support",
                              "migration", "security", "release",  "training"};

void append_words(std::string& out, uint64_t seed, size_t until) {
  for (uint64_t i = 0; out.size() < until; ++i) {
    const std::string_view w = kWords[(seed * 7 + i * 13 + (seed >> 4)) % std::size(kWords)];
    out.append(w.substr(0, std::min(w.size(), until - out.size())));
    if (out.size() < until) out.push_back(' ');
  }
}

}  // namespace

std::string openai_request_body(size_t size, uint64_t n) {
  std::string body =
      R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful )"
      R"(assistant that summarises meeting notes."},{"role":"user","content":"Summarise the )"
      R"(notes of meeting )" + std::to_string(n) + ": ";
  const std::string suffix = R"("}],"temperature":0.2,"max_tokens":256,"stream":false})";
  append_words(body, n, size > suffix.size() ? size - suffix.size() : 0);
  return body + suffix;
}

std::string chat_completion_body(size_t size, uint64_t n) {
  std::string body = R"({"id":"chatcmpl-)" + std::to_string(1000000000 + n) +
                     R"(","object":"chat.completion","created":)" +
                     std::to_string(1764000000 + n) +
                     R"(,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":)"
                     R"({"role":"assistant","content":"Summary of meeting )" +
                     std::to_string(n) + ": ";
  const std::string suffix = R"("},"finish_reason":"stop"}],"usage":{"prompt_tokens":)" +
                             std::to_string(200 + n % 50) + R"(,"completion_tokens":)" +
                             std::to_string(150 + n % 40) + R"(,"total_tokens":)" +
                             std::to_string(350 + n % 50 + n % 40) + "}}";
  append_words(body, n + 99, size > suffix.size() ? size - suffix.size() : 0);
  return body + suffix;
}

}  // namespace llmtap::bench
