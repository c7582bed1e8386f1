#pragma once
// The user's side of a request, for the optional content capture: the last user message of a
// conversation, or the prompt / input text, whichever the body carries.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "llm/api/json_dom.h"

namespace llmtap::llm {

// Request body keys that hold prompt text, most specific first.
inline constexpr std::string_view kPromptKeys[] = {"messages",  "contents", "input",   "prompt",
                                                   "inputText", "texts",    "content", "requests"};

// The prompt text in `value`, the body's value under `key` (one of kPromptKeys). Gathers at
// most about `max_bytes`; the caller makes the final UTF-8-safe cut.
std::string prompt_text_of(std::string_view key, JsonElement value, size_t max_bytes);

}  // namespace llmtap::llm
