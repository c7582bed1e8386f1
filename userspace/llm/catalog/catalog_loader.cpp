#include "llm/catalog/catalog_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/yaml_document_check.h"
#include "common/yaml_nesting_scan.h"

namespace llmtap::llm {
namespace {

constexpr std::string_view kEntryKeys[] = {"id",          "provider", "fallback", "docs",
                                           "description", "hosts",    "routes"};
constexpr std::string_view kRouteKeys[] = {"path", "family", "method", "header", "auth"};
constexpr std::string_view kTopKeys[] = {"version", "entries"};
constexpr size_t kMaxIdBytes = 64;
constexpr size_t kMaxAuthStyles = 8;

bool is_id(std::string_view text) {
  if (text.empty() || text.size() > kMaxIdBytes) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

bool is_header_name(std::string_view text) {
  if (text.empty() || text.size() > kMaxIdBytes) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

std::string lowercase(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

// The mapping's values by key, with the key's position (for errors about the key itself).
struct Field {
  YAML::Node key;
  YAML::Node value;
};

class CatalogReader {
 public:
  CatalogReader(std::string_view source, const CatalogLimits& limits)
      : source_(source), limits_(limits) {}

  std::vector<CatalogEntry> read(const YAML::Node& root);

 private:
  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& what) const;
  std::unordered_map<std::string, Field> fields(const YAML::Node& map, std::string_view what,
                                                std::span<const std::string_view> allowed,
                                                const YAML::Mark& fallback);
  const YAML::Node& require(const std::unordered_map<std::string, Field>& fields,
                            const std::string& key, std::string_view what,
                            const YAML::Mark& where) const;
  std::string scalar(const YAML::Node& node, std::string_view what) const;
  const YAML::Node& sequence(const YAML::Node& node, std::string_view what, size_t max) const;
  CatalogEntry read_entry(const YAML::Node& node);
  CatalogRoute read_route(const YAML::Node& node);

  std::string source_;
  CatalogLimits limits_;
  size_t total_routes_ = 0;
  YAML::Mark last_mark_;  // for nodes without a position of their own (null values)
};

void CatalogReader::fail(const YAML::Mark& mark, const std::string& what) const {
  const YAML::Mark& at = mark.is_null() ? last_mark_ : mark;
  const int line = at.is_null() ? 1 : at.line + 1;
  const int column = at.is_null() ? 1 : at.column + 1;
  throw CatalogError(source_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                     what);
}

std::unordered_map<std::string, Field> CatalogReader::fields(
    const YAML::Node& map, std::string_view what, std::span<const std::string_view> allowed,
    const YAML::Mark& fallback) {
  if (!map.IsMap())
    fail(map.Mark().is_null() ? fallback : map.Mark(), std::string(what) + " must be a mapping");
  std::unordered_map<std::string, Field> out;
  for (const auto& pair : map) {
    last_mark_ = pair.first.Mark();
    const std::string key = scalar(pair.first, "a key");
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string known;
      for (std::string_view k : allowed) known += (known.empty() ? "" : ", ") + std::string(k);
      fail(pair.first.Mark(),
           "unknown key '" + key + "' in " + std::string(what) + " (known: " + known + ")");
    }
    if (!out.emplace(key, Field{pair.first, pair.second}).second) {
      fail(pair.first.Mark(), "duplicate key '" + key + "' in " + std::string(what));
    }
  }
  return out;
}

const YAML::Node& CatalogReader::require(const std::unordered_map<std::string, Field>& fields,
                                         const std::string& key, std::string_view what,
                                         const YAML::Mark& where) const {
  const auto it = fields.find(key);
  if (it == fields.end()) fail(where, std::string(what) + " is missing '" + key + "'");
  return it->second.value;
}

std::string CatalogReader::scalar(const YAML::Node& node, std::string_view what) const {
  if (!node.IsScalar()) fail(node.Mark(), std::string(what) + " must be a string");
  const std::string& text = node.Scalar();
  if (text.size() > limits_.max_scalar_bytes) {
    fail(node.Mark(), std::string(what) + " is longer than " +
                          std::to_string(limits_.max_scalar_bytes) + " bytes");
  }
  return text;
}

const YAML::Node& CatalogReader::sequence(const YAML::Node& node, std::string_view what,
                                          size_t max) const {
  if (!node.IsSequence()) fail(node.Mark(), std::string(what) + " must be a list");
  if (node.size() > max) {
    fail(node.Mark(), std::string(what) + " has more than " + std::to_string(max) + " items");
  }
  return node;
}

CatalogRoute CatalogReader::read_route(const YAML::Node& node) {
  const auto f = fields(node, "a route", kRouteKeys, last_mark_);
  CatalogRoute route;
  const YAML::Node& path = require(f, "path", "route", node.Mark());
  std::string error;
  std::optional<PathPattern> pattern = PathPattern::compile(scalar(path, "'path'"), error);
  if (!pattern) fail(path.Mark(), "bad path pattern: " + error);
  route.path = std::move(*pattern);

  const YAML::Node& family = require(f, "family", "route", node.Mark());
  const std::string family_name = scalar(family, "'family'");
  const std::optional<ApiFamily> parsed = api_family_from_string(family_name);
  if (!parsed) fail(family.Mark(), "unknown API family '" + family_name + "'");
  route.family = *parsed;

  if (const auto it = f.find("method"); it != f.end()) {
    std::string method = scalar(it->second.value, "'method'");
    const bool token = !method.empty() && method.size() <= 16 &&
                       std::all_of(method.begin(), method.end(), [](char c) {
                         return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
                       });
    if (method != "*" && !token) fail(it->second.value.Mark(), "bad method '" + method + "'");
    std::transform(method.begin(), method.end(), method.begin(),
                   [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
    route.method = method == "*" ? "" : method;
  }
  if (const auto it = f.find("header"); it != f.end()) {
    const std::string header = scalar(it->second.value, "'header'");
    if (!is_header_name(header)) fail(it->second.value.Mark(), "bad header name '" + header + "'");
    route.required_header = lowercase(header);
  }
  if (const auto it = f.find("auth"); it != f.end()) {
    const YAML::Node& auth = it->second.value;
    auto add = [&](const YAML::Node& style_node) {
      const std::string name = scalar(style_node, "an auth style");
      const std::optional<AuthStyle> style = auth_style_from_string(name);
      if (!style) {
        fail(style_node.Mark(), "unknown auth style '" + name +
                                    "' (known: bearer, x-api-key, api-key, x-goog-api-key, "
                                    "sigv4, query-key)");
      }
      route.allowed_auth.push_back(*style);
    };
    if (auth.IsScalar()) {
      add(auth);
    } else {
      for (const auto& style : sequence(auth, "'auth'", kMaxAuthStyles)) add(style);
      if (route.allowed_auth.empty()) fail(auth.Mark(), "'auth' is an empty list");
    }
  }
  return route;
}

CatalogEntry CatalogReader::read_entry(const YAML::Node& node) {
  const auto f = fields(node, "an entry", kEntryKeys, last_mark_);
  CatalogEntry entry;
  const YAML::Node& id = require(f, "id", "entry", node.Mark());
  entry.id = scalar(id, "'id'");
  if (!is_id(entry.id)) fail(id.Mark(), "bad id '" + entry.id + "' (use [a-z0-9._-], up to 64)");
  entry.provider = entry.id;
  if (const auto it = f.find("provider"); it != f.end()) {
    entry.provider = scalar(it->second.value, "'provider'");
    if (!is_id(entry.provider)) {
      fail(it->second.value.Mark(), "bad provider '" + entry.provider + "' (use [a-z0-9._-])");
    }
  }
  if (const auto it = f.find("fallback"); it != f.end()) {
    const YAML::Node& value = it->second.value;
    bool fallback = false;
    if (!value.IsScalar() || !YAML::convert<bool>::decode(value, fallback)) {
      fail(value.Mark(), "'fallback' must be true or false");
    }
    entry.fallback = fallback;
  }
  for (std::string_view note : {"docs", "description"}) {
    if (const auto it = f.find(std::string(note)); it != f.end()) {
      scalar(it->second.value, "'" + std::string(note) + "'");
    }
  }
  const YAML::Node& hosts = require(f, "hosts", "entry '" + entry.id + "'", node.Mark());
  for (const auto& host : sequence(hosts, "'hosts'", limits_.max_hosts_per_entry)) {
    std::string error;
    std::optional<HostPattern> pattern = HostPattern::compile(scalar(host, "a host"), error);
    if (!pattern) fail(host.Mark(), "bad host pattern: " + error);
    entry.hosts.push_back(std::move(*pattern));
  }
  if (entry.hosts.empty()) fail(hosts.Mark(), "'hosts' is an empty list");

  const YAML::Node& routes = require(f, "routes", "entry '" + entry.id + "'", node.Mark());
  for (const auto& route : sequence(routes, "'routes'", limits_.max_routes_per_entry)) {
    if (++total_routes_ > limits_.max_total_routes) {
      fail(route.Mark(),
           "catalog has more than " + std::to_string(limits_.max_total_routes) + " routes");
    }
    last_mark_ = route.Mark();
    entry.routes.push_back(read_route(route));
  }
  if (entry.routes.empty()) fail(routes.Mark(), "'routes' is an empty list");
  return entry;
}

std::vector<CatalogEntry> CatalogReader::read(const YAML::Node& root) {
  last_mark_ = root.Mark();
  if (root.IsNull()) fail(root.Mark(), "empty catalog: expected 'version: 1' and 'entries'");
  const auto f = fields(root, "the catalog", kTopKeys, last_mark_);
  const YAML::Node& version = require(f, "version", "catalog", root.Mark());
  if (scalar(version, "'version'") != "1") fail(version.Mark(), "unsupported version (want 1)");

  const YAML::Node& entries = require(f, "entries", "catalog", root.Mark());
  std::vector<CatalogEntry> out;
  std::unordered_map<std::string, YAML::Mark> ids;
  for (const auto& node : sequence(entries, "'entries'", limits_.max_entries)) {
    last_mark_ = node.Mark();
    CatalogEntry entry = read_entry(node);
    const YAML::Mark id_mark = node.IsMap() ? node["id"].Mark() : node.Mark();
    if (const auto [it, added] = ids.emplace(entry.id, id_mark); !added) {
      fail(id_mark, "duplicate id '" + entry.id + "' (first at line " +
                        std::to_string(it->second.line + 1) + ")");
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace

std::vector<CatalogEntry> load_catalog_entries(std::string_view yaml_text,
                                               std::string_view source_name,
                                               const CatalogLimits& limits) {
  const std::string source(source_name);
  if (yaml_text.size() > limits.max_file_bytes) {
    throw CatalogError(source + ":1:1: catalog is larger than " +
                       std::to_string(limits.max_file_bytes) + " bytes");
  }
  if (const auto deep = find_excessive_nesting(yaml_text, NestingLimits{})) {
    throw CatalogError(source + ":" + std::to_string(deep->line) + ":" +
                       std::to_string(deep->column) + ": nested too deeply");
  }
  try {
    const std::string text(yaml_text);
    if (const auto second = find_second_document(text)) {
      throw CatalogError(source + ":" + std::to_string(second->line + 1) + ":" +
                         std::to_string(second->column + 1) +
                         ": content after the first YAML document");
    }
    return CatalogReader(source, limits).read(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    const YAML::Mark& mark = e.mark;
    const int line = mark.is_null() ? 0 : mark.line;
    const int column = mark.is_null() ? 0 : mark.column;
    throw CatalogError(source + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) +
                       ": " + e.msg);
  }
}

}  // namespace llmtap::llm
