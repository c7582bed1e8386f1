#include "common/credential_shapes.h"

#include <array>
#include <cctype>
#include <string_view>

namespace llmtap::common {
namespace {

constexpr std::string_view kRedacted = "[REDACTED]";

constexpr std::array kKeyPrefixes = {"sk-",  "sk_",  "AKIA",  "ASIA", "AIza",        "hf_",
                                     "xai-", "gsk_", "pplx-", "ghp_", "github_pat_", "xox"};

bool token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// "Bearer <token>" (any case): the token goes, whatever its shape.
void redact_bearer_tokens(std::string& text) {
  constexpr std::string_view kBearer = "bearer ";
  for (size_t at = 0; at + kBearer.size() < text.size(); ++at) {
    size_t k = 0;
    while (k < kBearer.size() &&
           std::tolower(static_cast<unsigned char>(text[at + k])) == kBearer[k]) {
      ++k;
    }
    if (k != kBearer.size()) continue;
    const size_t start = at + kBearer.size();
    size_t end = start;
    while (end < text.size() &&
           (token_char(text[end]) || text[end] == '/' || text[end] == '+' || text[end] == '=')) {
      ++end;
    }
    if (end - start < 8 || text.compare(start, kRedacted.size(), kRedacted) == 0) continue;
    text.replace(start, end - start, kRedacted);
    at = start + kRedacted.size();
  }
}

}  // namespace

void redact_credential_shapes(std::string& arg) {
  redact_bearer_tokens(arg);
  for (std::string_view prefix : kKeyPrefixes) {
    size_t at = 0;
    while ((at = arg.find(prefix, at)) != std::string::npos) {
      // Only at the start of a token, so "task-1" never matches "sk-".
      if (at != 0 && token_char(arg[at - 1])) {
        at += prefix.size();
        continue;
      }
      size_t end = at + prefix.size();
      while (end < arg.size() && token_char(arg[end])) ++end;
      if (end - at < prefix.size() + 8) {  // too short to be a key
        at = end;
        continue;
      }
      arg.replace(at, end - at, kRedacted);
      at += kRedacted.size();
    }
  }
}

}  // namespace llmtap::common
