#pragma once
// Percent-decoding of URL path captures (Bedrock puts model ids such as
// "anthropic.claude-3-5-sonnet-20240620-v1%3A0" in the path).

#include <string>
#include <string_view>

namespace llmtap::llm {

// Decodes %XX escapes; a '%' not followed by two hex digits is kept as is. '+' is left alone
// (it means a space only in form bodies, not in paths).
std::string percent_decode(std::string_view text);

}  // namespace llmtap::llm
