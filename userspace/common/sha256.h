#pragma once
// SHA-256 in lowercase hex: how llmtap names a secret without keeping it (API keys for
// policy and grouping, detected secrets for correlation).

#include <string>
#include <string_view>

namespace llmtap {

std::string sha256_hex(std::string_view data);

}  // namespace llmtap
