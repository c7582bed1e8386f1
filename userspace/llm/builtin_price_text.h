#pragma once
// The text of policies/prices.yaml, embedded at build time (see CMakeLists.txt).

#include <string_view>

namespace llmtap::llm {

std::string_view builtin_price_text();
inline constexpr std::string_view kBuiltinPriceTableName = "policies/prices.yaml";

}  // namespace llmtap::llm
