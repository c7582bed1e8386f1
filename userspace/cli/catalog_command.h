#pragma once
// `llmtap check-catalog FILE...`: validates provider catalog files before they are deployed.

#include <string>
#include <vector>

namespace llmtap::cli {

// Prints one line per file; throws llm::CatalogError (file:line:column) on the first bad one.
int check_catalogs(const std::vector<std::string>& files);

}  // namespace llmtap::cli
