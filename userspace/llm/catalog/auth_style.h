#pragma once
// How a request authenticates, named without the secret: tells apart e.g. an Azure key from
// an Entra token, or a Bedrock SigV4 signature from a Bedrock API key.

#include <optional>
#include <string_view>
#include <vector>

#include "http/http_message.h"

namespace llmtap::llm {

enum class AuthStyle {
  kNone,
  kBearer,       // Authorization: Bearer ...
  kXApiKey,      // x-api-key: ... (Anthropic)
  kApiKey,       // api-key: ... (Azure OpenAI)
  kXGoogApiKey,  // x-goog-api-key: ... (Gemini)
  kSigV4,        // Authorization: AWS4-HMAC-SHA256 ... (AWS)
  kQueryKey,     // ?key=... in the request target (Gemini, Vertex express)
};

// "bearer", "x-api-key", "api-key", "x-goog-api-key", "sigv4", "query-key"; "" for kNone.
std::string_view to_string(AuthStyle style);
std::optional<AuthStyle> auth_style_from_string(std::string_view name);

// The first style above (in declaration order) that the request uses. `query` is the target's
// query string without the '?'.
AuthStyle detect_auth_style(const http::HeaderFields& headers, std::string_view query);

// The API key itself as the request carries it (Bearer token, x-api-key, api-key,
// x-goog-api-key, or ?key=), "" when there is none (SigV4 signs, it sends no key). Only ever
// hashed: never stored or printed.
std::string_view api_key_of(const http::HeaderFields& headers, std::string_view query);

}  // namespace llmtap::llm
