#include "llm/catalog/host_index.h"

#include <algorithm>

namespace llmtap::llm {

HostIndex::HostIndex(const std::vector<CatalogEntry>& entries) {
  for (uint32_t index = 0; index < entries.size(); ++index) {
    const CatalogEntry& entry = entries[index];
    if (entry.fallback) {
      fallbacks_.push_back(index);
      continue;
    }
    bool has_wildcard = false;
    for (const HostPattern& pattern : entry.hosts) {
      if (const auto name = pattern.exact_name()) {
        std::vector<uint32_t>& list = exact_[std::string(*name)];
        if (list.empty() || list.back() != index) list.push_back(index);
      } else {
        has_wildcard = true;
      }
    }
    if (has_wildcard) wildcard_.push_back(index);
  }
}

bool HostIndex::hosts_match(const CatalogEntry& entry, const RequestHost& host) {
  return std::any_of(entry.hosts.begin(), entry.hosts.end(),
                     [&host](const HostPattern& pattern) { return pattern.matches(host); });
}

}  // namespace llmtap::llm
