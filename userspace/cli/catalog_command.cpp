#include "cli/catalog_command.h"

#include <cstdio>

#include "llm/catalog/provider_catalog.h"

namespace llmtap::cli {

int check_catalogs(const std::vector<std::string>& files) {
  for (const std::string& file : files) {
    const llm::ProviderCatalog catalog = llm::ProviderCatalog::from_file(file);
    std::printf("%s: ok, %zu entries\n", file.c_str(), catalog.size());
  }
  return 0;
}

}  // namespace llmtap::cli
