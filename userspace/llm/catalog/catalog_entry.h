#pragma once
// One compiled catalog entry: the hosts one provider answers on and the routes (method, path,
// header, auth) that identify each of its API families.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llm/api_family.h"
#include "llm/catalog/auth_style.h"
#include "llm/catalog/host_pattern.h"
#include "llm/catalog/path_pattern.h"

namespace llmtap::llm {

struct CatalogRoute {
  PathPattern path;
  ApiFamily family = ApiFamily::kOpenAiChatCompletions;
  std::string method = "POST";          // empty: any method
  std::string required_header;          // empty: none
  std::vector<AuthStyle> allowed_auth;  // empty: any (or none)
};

struct CatalogEntry {
  std::string id;        // unique within a file; a user entry replaces a built-in one by id
  std::string provider;  // reported provider id
  bool fallback = false;
  std::vector<HostPattern> hosts;
  std::vector<CatalogRoute> routes;
};

}  // namespace llmtap::llm
