#pragma once
// What the kernel checks in a request line to tell that a connection quiet until an LLM
// request (docs/capture-cost.md) must be copied again: a path prefix or suffix per catalog
// route, a superset of the routes (userspace still matches the whole request).

#include <cstddef>
#include <string>
#include <vector>

#include "llm/catalog/provider_catalog.h"

namespace llmtap::llm {

struct RequestPathHint {
  std::string text;
  bool suffix = false;  // the path ends with text (else: starts with it)
  bool operator==(const RequestPathHint&) const = default;
};

// The kernel's limits (llmtap_abi.h): a hint's length, and how many there can be.
inline constexpr size_t kMaxRequestPathHintBytes = 46;
inline constexpr size_t kMaxRequestPathHints = 64;

// One hint per route, deduplicated, each within kMaxRequestPathHintBytes:
//   - no wildcard: the path itself, as a prefix;
//   - wildcards: the literal after the last one as a suffix when it has 6+ characters
//     ("/**/chat/completions" -> suffix "/chat/completions"), else the literal before the
//     first one as a prefix when it has 4+ ("/openai/deployments/{d}/x" -> prefix
//     "/openai/deployments/"), else "/" (every path: nothing is left quiet).
// Too many hints collapse to the single prefix "/" (correct, only nothing is saved).
std::vector<RequestPathHint> request_path_hints(const ProviderCatalog& catalog);

// The kernel's check (bpf/tls_capture.bpf.c, starts_llm_request) in userspace: `bytes` (a
// call's first bytes; the kernel looks at 256) start "METHOD /path" with a 3-7 capital letter
// method, and the path (to ' ', '?', '#', CR or the end, one trailing '/' dropped) starts or
// ends with a hint. The model the kernel is tested against.
bool request_line_may_be_llm(const std::vector<RequestPathHint>& hints, std::string_view bytes);

}  // namespace llmtap::llm
