#pragma once
// UTF-8 validation shared by every stage that turns captured bytes into text (JSON output,
// the terminal view, extracted prompts and errors).

#include <cstddef>
#include <string_view>

namespace llmtap::common {

// Length of the valid UTF-8 sequence starting at text[i] (1 for ASCII), or 0 if the bytes
// there are not valid UTF-8 (RFC 3629: no overlongs, surrogates or code points past U+10FFFF).
size_t utf8_sequence_length(std::string_view text, size_t i);

}  // namespace llmtap::common
