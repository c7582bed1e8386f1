#pragma once
// The LLM-shaped bodies the agent benchmarks send: an OpenAI chat request and its
// chat.completion answer, different for every call (a counter and words picked by it), as real
// prompts and answers are, so the agent's caches of equal texts serve only the two ends of one
// call.
#include <cstddef>
#include <cstdint>
#include <string>

namespace llmtap::bench {

// `{"model":"gpt-4o-mini","messages":[...]}` of `size` bytes for call `n`.
std::string openai_request_body(size_t size, uint64_t n);
// A `chat.completion` with usage, of `size` bytes, answering call `n`.
std::string chat_completion_body(size_t size, uint64_t n);

}  // namespace llmtap::bench
