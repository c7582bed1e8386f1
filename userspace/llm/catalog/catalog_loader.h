#pragma once
// Reads a provider catalog (YAML) into compiled entries, validating it strictly: every
// problem is a CatalogError naming the file, line and column.

#include <cstddef>
#include <string_view>
#include <vector>

#include "llm/catalog/catalog_entry.h"
#include "llm/catalog/catalog_error.h"

namespace llmtap::llm {

// Bounds that keep a hostile or broken catalog from exhausting memory or time.
struct CatalogLimits {
  size_t max_file_bytes = 4 << 20;
  size_t max_entries = 10'000;
  size_t max_hosts_per_entry = 256;
  size_t max_routes_per_entry = 256;
  size_t max_total_routes = 50'000;
  size_t max_scalar_bytes = 2048;
};

std::vector<CatalogEntry> load_catalog_entries(std::string_view yaml_text,
                                               std::string_view source_name,
                                               const CatalogLimits& limits = {});

}  // namespace llmtap::llm
