#pragma once
// The provider catalog: which provider and API family a request head is, from its host,
// method, target and headers. The catalog is data (policies/providers.yaml, built in, plus
// optional user files); see docs/providers.md for the format.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_message.h"
#include "llm/api_family.h"
#include "llm/catalog/catalog_entry.h"
#include "llm/catalog/catalog_error.h"
#include "llm/catalog/host_index.h"

namespace llmtap::llm {

struct CatalogMatch {
  std::string provider;  // e.g. "openai", "azure-openai", "openai-compatible"
  ApiFamily family = ApiFamily::kOpenAiChatCompletions;
  std::string model_from_path;  // percent-decoded {model} capture, empty if none
  std::string deployment;       // {deployment} capture (Azure), empty if none
  std::string auth_style;       // detected from the request headers, empty if none
  bool fallback = false;        // matched by API shape on a host the catalog does not name
};

class ProviderCatalog {
 public:
  ProviderCatalog() = default;

  // policies/providers.yaml as compiled into the binary (parsed once).
  static ProviderCatalog builtin();
  // Throw CatalogError ("FILE:LINE:COL: what").
  static ProviderCatalog from_yaml(std::string_view yaml_text, std::string_view source_name);
  static ProviderCatalog from_file(const std::string& path);

  // `user`'s entries are tried before this catalog's; an entry with the same id as one of
  // `user`'s is dropped, so users can also correct a built-in entry.
  void add_overrides(const ProviderCatalog& user);

  // host: the Host header or :authority value (may include :port). target: the request
  // target as sent (origin or absolute form, with query). Runs on every request head.
  std::optional<CatalogMatch> match(std::string_view host, std::string_view method,
                                    std::string_view target,
                                    const http::HeaderFields& headers) const;

  size_t size() const { return entries_.size(); }  // entries
  const std::vector<CatalogEntry>& entries() const { return entries_; }
  size_t route_count() const;

 private:
  explicit ProviderCatalog(std::vector<CatalogEntry> entries);

  std::vector<CatalogEntry> entries_;
  HostIndex index_;
};

}  // namespace llmtap::llm
