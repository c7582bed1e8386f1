#pragma once
// UTF-8 hygiene for text copied out of captured bodies: whatever the bytes were, what we hand
// on (to JSON sinks, to policy) must be valid UTF-8, and cutting must not split a character.

#include <cstddef>
#include <string>
#include <string_view>

#include "common/utf8.h"

namespace llmtap::llm {

// `text` with every invalid or truncated UTF-8 sequence replaced by U+FFFD.
std::string to_valid_utf8(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` bytes that does not end inside a
// character. `text` is assumed valid UTF-8 (pass it through to_valid_utf8 first if unsure).
std::string_view cut_utf8(std::string_view text, size_t max_bytes);

using common::utf8_sequence_length;

}  // namespace llmtap::llm
