#pragma once
// UTF-8 validation shared by the JSON writers and the terminal view: both must turn whatever
// bytes a process name or a server sent into text that cannot break their output.

#include <cstddef>
#include <string_view>

namespace llmtap::sink {

// Length of the valid UTF-8 sequence starting at text[i] (1 for ASCII), or 0 if the bytes
// there are not valid UTF-8 (RFC 3629: no overlongs, surrogates or code points past U+10FFFF).
size_t utf8_sequence_length(std::string_view text, size_t i);

}  // namespace llmtap::sink
