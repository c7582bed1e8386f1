#pragma once
// The text of policies/providers.yaml, embedded at build time (see CMakeLists.txt).

#include <string_view>

namespace llmtap::llm {

std::string_view builtin_catalog_text();
inline constexpr std::string_view kBuiltinCatalogName = "policies/providers.yaml";

}  // namespace llmtap::llm
