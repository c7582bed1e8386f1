#pragma once
// The text detectors read from a request or response body: JSON string escapes decoded
// (a PEM key in a prompt arrives as "-----BEGIN ...\nMII..."; a quote inside a password as
// \"), everything else as it is. Offsets in findings are offsets in this text.

#include <string>
#include <string_view>

namespace llmtap::policy {

// Decodes \n \t \r \b \f \" \\ \/ and \uXXXX (surrogate pairs joined; a lone surrogate or a
// bad escape is kept as written) wherever they occur. Output is never longer than the input.
void json_unescaped(std::string_view body, std::string& out);

}  // namespace llmtap::policy
