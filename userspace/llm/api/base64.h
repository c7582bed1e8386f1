#pragma once
// Standard base64 (RFC 4648), as Bedrock uses for the model chunks inside its event stream.

#include <optional>
#include <string>
#include <string_view>

namespace llmtap::llm {

// nullopt on a character outside the alphabet or a malformed ending; padding is optional.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace llmtap::llm
