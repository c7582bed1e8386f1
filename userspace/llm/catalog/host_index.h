#pragma once
// Finds the catalog entries whose hosts match a request's host without trying every pattern:
// exact host names are looked up in a hash map, only wildcard patterns are tried one by one.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "llm/catalog/catalog_entry.h"
#include "llm/catalog/request_host.h"

namespace llmtap::llm {

class HostIndex {
 public:
  HostIndex() = default;
  explicit HostIndex(const std::vector<CatalogEntry>& entries);

  // Calls visit(entry_index) for each non-fallback entry whose hosts match, in entry order,
  // until visit returns true. Returns whether any entry's hosts matched (the host is named).
  template <typename Visit>
  bool visit_named(const std::vector<CatalogEntry>& entries, const RequestHost& host,
                   Visit&& visit) const;

  // The same for fallback entries.
  template <typename Visit>
  void visit_fallbacks(const std::vector<CatalogEntry>& entries, const RequestHost& host,
                       Visit&& visit) const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static bool hosts_match(const CatalogEntry& entry, const RequestHost& host);

  std::unordered_map<std::string, std::vector<uint32_t>, StringHash, std::equal_to<>> exact_;
  std::vector<uint32_t> wildcard_;   // non-fallback entries with a wildcard host pattern
  std::vector<uint32_t> fallbacks_;  // all fallback entries
};

template <typename Visit>
bool HostIndex::visit_named(const std::vector<CatalogEntry>& entries, const RequestHost& host,
                            Visit&& visit) const {
  static const std::vector<uint32_t> kNone;
  const auto found = exact_.find(host.name());
  const std::vector<uint32_t>& exact = found == exact_.end() ? kNone : found->second;
  bool named = false;
  // Merge the two sorted index lists so entries are tried in catalog order.
  size_t i = 0;
  size_t j = 0;
  while (i < exact.size() || j < wildcard_.size()) {
    uint32_t next = 0;
    if (j == wildcard_.size() || (i < exact.size() && exact[i] < wildcard_[j])) {
      next = exact[i++];
    } else if (i == exact.size() || wildcard_[j] < exact[i]) {
      next = wildcard_[j++];
    } else {
      next = exact[i++];
      ++j;
    }
    if (!hosts_match(entries[next], host)) continue;
    named = true;
    if (visit(next)) break;
  }
  return named;
}

template <typename Visit>
void HostIndex::visit_fallbacks(const std::vector<CatalogEntry>& entries, const RequestHost& host,
                                Visit&& visit) const {
  for (uint32_t index : fallbacks_) {
    if (hosts_match(entries[index], host) && visit(index)) return;
  }
}

}  // namespace llmtap::llm
