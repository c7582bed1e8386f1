#include "llm/catalog/provider_catalog.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <unordered_set>

#include "llm/catalog/builtin_catalog_text.h"
#include "llm/catalog/catalog_loader.h"
#include "llm/catalog/percent_decoding.h"
#include "llm/catalog/request_target.h"

namespace llmtap::llm {

ProviderCatalog::ProviderCatalog(std::vector<CatalogEntry> entries)
    : entries_(std::move(entries)), index_(entries_) {}

ProviderCatalog ProviderCatalog::builtin() {
  static const ProviderCatalog kBuiltin = from_yaml(builtin_catalog_text(), kBuiltinCatalogName);
  return kBuiltin;
}

ProviderCatalog ProviderCatalog::from_yaml(std::string_view yaml_text,
                                           std::string_view source_name) {
  return ProviderCatalog(load_catalog_entries(yaml_text, source_name));
}

ProviderCatalog ProviderCatalog::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CatalogError(path + ":1:1: cannot open the file");
  // Read one byte past the limit so an oversized file is reported, not loaded whole.
  const size_t limit = CatalogLimits{}.max_file_bytes;
  std::string text(limit + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) throw CatalogError(path + ":1:1: cannot read the file");
  text.resize(static_cast<size_t>(in.gcount()));
  return from_yaml(text, path);
}

void ProviderCatalog::add_overrides(const ProviderCatalog& user) {
  std::unordered_set<std::string_view> replaced;
  for (const CatalogEntry& entry : user.entries_) replaced.insert(entry.id);
  std::vector<CatalogEntry> merged = user.entries_;
  for (CatalogEntry& entry : entries_) {
    if (!replaced.contains(entry.id)) merged.push_back(std::move(entry));
  }
  entries_ = std::move(merged);
  index_ = HostIndex(entries_);
}

size_t ProviderCatalog::route_count() const {
  size_t count = 0;
  for (const CatalogEntry& entry : entries_) count += entry.routes.size();
  return count;
}

std::optional<CatalogMatch> ProviderCatalog::match(
    std::string_view host, std::string_view method, std::string_view target,
    const http::HeaderFields& headers) const {
  const TargetParts parts = split_target(target);
  const PathSegments path(parts.path);
  if (path.overflowed()) return std::nullopt;
  const RequestHost request_host(host.empty() ? parts.authority : host);

  std::optional<AuthStyle> auth;  // detected once, when first needed
  std::optional<CatalogMatch> result;
  auto try_entry = [&](uint32_t index) {
    const CatalogEntry& entry = entries_[index];
    for (const CatalogRoute& route : entry.routes) {
      if (!route.method.empty() && !http::ascii_iequals(route.method, method)) continue;
      PathCaptures captures;
      if (!route.path.matches(path, captures)) continue;
      if (!route.required_header.empty() && !http::find_header(headers, route.required_header)) {
        continue;
      }
      if (!auth) auth = detect_auth_style(headers, parts.query);
      if (!route.allowed_auth.empty() &&
          std::find(route.allowed_auth.begin(), route.allowed_auth.end(), *auth) ==
              route.allowed_auth.end()) {
        continue;
      }
      result = CatalogMatch{entry.provider,
                            route.family,
                            percent_decode(captures.model),
                            percent_decode(captures.deployment),
                            std::string(to_string(*auth)),
                            entry.fallback};
      return true;
    }
    return false;
  };
  const bool named = index_.visit_named(entries_, request_host, try_entry);
  if (!result && !named) index_.visit_fallbacks(entries_, request_host, try_entry);
  return result;
}

}  // namespace llmtap::llm
