// libFuzzer target for the provider catalog loader: any bytes are loaded as a catalog (which
// must either load or throw CatalogError) and, when they load, matched against a request
// made from the input's last line, and layered over the built-in catalog.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "llm/catalog/provider_catalog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using llmtap::llm::CatalogError;
  using llmtap::llm::ProviderCatalog;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The last line is "host target" for a match; the rest (all of it, too) is the catalog.
  const size_t newline = input.rfind('\n');
  const std::string_view request =
      newline == std::string_view::npos ? input : input.substr(newline + 1);
  const size_t space = request.find(' ');
  const std::string_view host = request.substr(0, space);
  const std::string_view target = space == std::string_view::npos ? "/" : request.substr(space + 1);
  try {
    ProviderCatalog user = ProviderCatalog::from_yaml(input, "fuzz.yaml");
    user.match(host, "POST", target, {{"x-api-key", "k"}, {"anthropic-version", "1"}});
    ProviderCatalog layered = ProviderCatalog::builtin();
    layered.add_overrides(user);
    layered.match(host, "POST", target, {});
  } catch (const CatalogError&) {
  }
  static const ProviderCatalog kBuiltin = ProviderCatalog::builtin();
  kBuiltin.match(host, "POST", target, {{"Authorization", "Bearer t"}});
  return 0;
}
