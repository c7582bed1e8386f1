// Loading catalogs: every kind of error names the file, line and column; hostile input is
// refused with a clear error rather than crashing or hanging.

#include <gtest/gtest.h>

#include <string>

#include "llm/catalog/provider_catalog.h"

namespace llmtap::llm {
namespace {

// The CatalogError message from loading `yaml`, or "" if it loaded.
std::string load_error(const std::string& yaml) {
  try {
    ProviderCatalog::from_yaml(yaml, "user.yaml");
  } catch (const CatalogError& e) {
    return e.what();
  }
  return "";
}

constexpr const char* kHeader = "version: 1\nentries:\n";

TEST(CatalogLoader, LoadsAMinimalCatalog) {
  const ProviderCatalog catalog = ProviderCatalog::from_yaml(
      std::string(kHeader) +
          "  - id: acme\n    hosts: [llm.acme.test]\n"
          "    routes:\n      - {path: /generate, family: ollama.generate, method: '*'}\n",
      "user.yaml");
  EXPECT_EQ(catalog.size(), 1u);
  const auto match = catalog.match("llm.acme.test", "PUT", "/generate", {});
  ASSERT_TRUE(match);
  EXPECT_EQ(match->provider, "acme");
  EXPECT_EQ(match->family, ApiFamily::kOllamaGenerate);
}

TEST(CatalogLoader, EmptyEntriesAreAllowed) {
  EXPECT_EQ(ProviderCatalog::from_yaml("version: 1\nentries: []\n", "x").size(), 0u);
}

TEST(CatalogLoader, ReportsUnknownKeys) {
  EXPECT_EQ(load_error(std::string(kHeader) + "  - id: a\n    hostz: [x]\n"),
            "user.yaml:4:5: unknown key 'hostz' in an entry (known: id, provider, fallback, docs, "
            "description, hosts, routes)");
  EXPECT_EQ(load_error(std::string(kHeader) +
                       "  - id: a\n    hosts: [x]\n    routes:\n"
                       "      - {path: /a, family: openai.completions, verb: GET}\n"),
            "user.yaml:6:48: unknown key 'verb' in a route (known: path, family, method, header, "
            "auth)");
  EXPECT_EQ(load_error("version: 1\nentries: []\nextra: 1\n"),
            "user.yaml:3:1: unknown key 'extra' in the catalog (known: version, entries)");
}

TEST(CatalogLoader, ReportsDuplicateKeys) {
  EXPECT_EQ(load_error(std::string(kHeader) + "  - id: a\n    id: b\n"),
            "user.yaml:4:5: duplicate key 'id' in an entry");
}

TEST(CatalogLoader, ReportsUnknownApiFamilies) {
  EXPECT_EQ(
      load_error(std::string(kHeader) + "  - id: a\n    hosts: [x]\n    routes:\n"
                                        "      - path: /v1/chat\n        family: openai.chat\n"),
      "user.yaml:7:17: unknown API family 'openai.chat'");
}

TEST(CatalogLoader, ReportsBadPatterns) {
  const std::string entry = std::string(kHeader) + "  - id: a\n    hosts: [";
  EXPECT_EQ(load_error(entry + "'a*b*c.com']\n    routes: [{path: /a, family: ollama.chat}]\n"),
            "user.yaml:4:13: bad host pattern: host pattern 'a*b*c.com': at most one '*' in a "
            "label");
  EXPECT_EQ(load_error(entry + "'x:99999']\n    routes: [{path: /a, family: ollama.chat}]\n"),
            "user.yaml:4:13: bad host pattern: host pattern 'x:99999' has a bad port");
  EXPECT_EQ(load_error(entry + "'a b']\n    routes: [{path: /a, family: ollama.chat}]\n"),
            "user.yaml:4:13: bad host pattern: host pattern 'a b' has a character not allowed in "
            "a host name");
  const std::string route = std::string(kHeader) + "  - id: a\n    hosts: [x]\n    routes:\n" +
                            "      - {family: ollama.chat, path: ";
  EXPECT_EQ(load_error(route + "v1/chat}\n"),
            "user.yaml:6:37: bad path pattern: path pattern must start with '/'");
  EXPECT_EQ(load_error(route + "'/models/{model'}\n"),
            "user.yaml:6:37: bad path pattern: path segment '{model': '{' without '}'");
  EXPECT_EQ(load_error(route + "'/a/{m-x}'}\n"),
            "user.yaml:6:37: bad path pattern: path segment '{m-x}': capture name 'm-x' is not "
            "[A-Za-z0-9_]+");
  EXPECT_EQ(load_error(route + "'/a/{x}{y}'}\n"),
            "user.yaml:6:37: bad path pattern: path segment '{x}{y}': two wildcards next to "
            "each other in a segment");
  EXPECT_EQ(load_error(route + "'/a**'}\n"),
            "user.yaml:6:37: bad path pattern: path segment 'a**': '**' must be a whole segment");
  EXPECT_EQ(load_error(route + "'/**/a/**/b/**'}\n"),
            "user.yaml:6:37: bad path pattern: path pattern has more than 2 '**'");
  EXPECT_EQ(load_error(route + "'/a?b=1'}\n"),
            "user.yaml:6:37: bad path pattern: path segment 'a?b=1': character not allowed in a "
            "path pattern (space, control, '?' or '#')");
  EXPECT_EQ(load_error(std::string(kHeader) +
                       "  - id: a\n    hosts: [x]\n    routes:\n"
                       "      - {path: /a, family: ollama.chat, method: 'GET POST'}\n"),
            "user.yaml:6:49: bad method 'GET POST'");
  EXPECT_EQ(
      load_error(std::string(kHeader) + "  - id: a\n    hosts: [x]\n    routes:\n"
                                        "      - {path: /a, family: ollama.chat, auth: [magic]}\n"),
      "user.yaml:6:48: unknown auth style 'magic' (known: bearer, x-api-key, api-key, "
      "x-goog-api-key, sigv4, query-key)");
}

TEST(CatalogLoader, ReportsMissingFields) {
  EXPECT_EQ(load_error("entries: []\n"), "user.yaml:1:1: catalog is missing 'version'");
  EXPECT_EQ(load_error("version: 1\n"), "user.yaml:1:1: catalog is missing 'entries'");
  EXPECT_EQ(load_error(std::string(kHeader) + "  - hosts: [x]\n"),
            "user.yaml:3:5: entry is missing 'id'");
  EXPECT_EQ(load_error(std::string(kHeader) + "  - id: a\n    routes: []\n"),
            "user.yaml:3:5: entry 'a' is missing 'hosts'");
  EXPECT_EQ(load_error(std::string(kHeader) + "  - id: a\n    hosts: [x]\n"),
            "user.yaml:3:5: entry 'a' is missing 'routes'");
  EXPECT_EQ(load_error(std::string(kHeader) + "  - id: a\n    hosts: [x]\n    routes:\n" +
                       "      - {path: /a}\n"),
            "user.yaml:6:9: route is missing 'family'");
  EXPECT_EQ(load_error(std::string(kHeader) + "  - id: a\n    hosts: []\n    routes: []\n"),
            "user.yaml:4:12: 'hosts' is an empty list");
  EXPECT_EQ(load_error(""), "user.yaml:1:1: empty catalog: expected 'version: 1' and 'entries'");
}

TEST(CatalogLoader, ReportsWrongTypesAndValues) {
  EXPECT_EQ(load_error("version: 2\nentries: []\n"),
            "user.yaml:1:10: unsupported version (want 1)");
  EXPECT_EQ(load_error("version: 1\nentries: {a: 1}\n"),
            "user.yaml:2:10: 'entries' must be a list");
  EXPECT_EQ(load_error(std::string(kHeader) + "  - just a string\n"),
            "user.yaml:3:5: an entry must be a mapping");
  EXPECT_EQ(load_error(std::string(kHeader) + "  - id: Bad Id\n"),
            "user.yaml:3:9: bad id 'Bad Id' (use [a-z0-9._-], up to 64)");
  EXPECT_EQ(load_error(std::string(kHeader) + "  - id: a\n    fallback: maybe\n"),
            "user.yaml:4:15: 'fallback' must be true or false");
  EXPECT_EQ(load_error(std::string(kHeader) + "  - id: a\n    hosts: x\n"),
            "user.yaml:4:12: 'hosts' must be a list");
  EXPECT_EQ(load_error("- 1\n"), "user.yaml:1:1: the catalog must be a mapping");
}

TEST(CatalogLoader, ReportsDuplicateIds) {
  const std::string entry = "    hosts: [x]\n    routes: [{path: /a, family: ollama.chat}]\n";
  EXPECT_EQ(load_error(std::string(kHeader) + "  - id: a\n" + entry + "  - id: a\n" + entry),
            "user.yaml:6:9: duplicate id 'a' (first at line 3)");
}

TEST(CatalogLoader, ReportsYamlSyntaxErrors) {
  EXPECT_EQ(load_error("version: 1\nentries: [\n"),
            "user.yaml:3:1: end of sequence flow not found");
  EXPECT_EQ(load_error("version: 1\n---\nversion: 1\n"),
            "user.yaml:2:1: content after the first YAML document");
  // yaml-cpp's LoadAll never returns on this one.
  EXPECT_EQ(load_error(","), "user.yaml:1:1: content after the first YAML document");
  EXPECT_EQ(load_error("version: 1\nentries: []\n]\n"), "user.yaml:3:1: illegal flow end");
}

TEST(CatalogLoader, MissingFileIsAnError) {
  try {
    ProviderCatalog::from_file("/nonexistent/providers.yaml");
    FAIL();
  } catch (const CatalogError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/providers.yaml:1:1: cannot open the file");
  }
}

// Hostile input: each of these must end in an error (or load), quickly and without a crash.
TEST(CatalogLoader, RefusesDeepFlowNesting) {
  EXPECT_EQ(load_error("version: 1\nentries: " + std::string(100000, '[')),
            "user.yaml:2:42: nested too deeply");
}

TEST(CatalogLoader, RefusesDeepBlockNesting) {
  std::string yaml = "version: 1\nentries:\n";
  for (int i = 0; i < 1000; ++i) yaml += std::string(i, ' ') + "a:\n";
  EXPECT_EQ(load_error(yaml), "user.yaml:132:129: nested too deeply");
  EXPECT_EQ(load_error("version: 1\nentries:\n" +
                       [] {
                         std::string s;
                         for (int i = 0; i < 5000; ++i) s += "- ";
                         return s + "x\n";
                       }()),
            "user.yaml:3:129: nested too deeply");
}

TEST(CatalogLoader, RefusesHugeFiles) {
  EXPECT_EQ(load_error("version: 1\nentries: []\n#" + std::string(5 << 20, 'x')),
            "user.yaml:1:1: catalog is larger than 4194304 bytes");
}

TEST(CatalogLoader, RefusesHugePatterns) {
  const std::string pattern = "/" + std::string(1 << 20, 'a');
  EXPECT_EQ(load_error(std::string(kHeader) + "  - id: a\n    hosts: [x]\n    routes:\n" +
                       "      - {family: ollama.chat, path: " + pattern + "}\n"),
            "user.yaml:6:37: 'path' is longer than 2048 bytes");
  const std::string path = "/" + std::string(1500, 'a');
  EXPECT_EQ(load_error(std::string(kHeader) + "  - id: a\n    hosts: [x]\n    routes:\n" +
                       "      - {family: ollama.chat, path: " + path + "}\n"),
            "user.yaml:6:37: bad path pattern: path pattern longer than 1024 bytes");
}

TEST(CatalogLoader, RefusesTooManyEntries) {
  std::string yaml = std::string(kHeader) +
                     "  - &e {id: a, hosts: [x], routes: [{path: /a, family: ollama.chat}]}\n";
  for (int i = 0; i < 100000; ++i) yaml += "  - *e\n";
  EXPECT_EQ(load_error(yaml), "user.yaml:3:3: 'entries' has more than 10000 items");
}

TEST(CatalogLoader, AliasesCannotMultiplyRoutesWithoutBound) {
  // 200 entries sharing one list of 256 routes: 51200 routes, over the total bound.
  std::string routes = "[";
  for (int i = 0; i < 256; ++i) routes += "{path: /a, family: ollama.chat},";
  routes.back() = ']';
  std::string yaml = std::string(kHeader) + "  - {id: e0, hosts: [x], routes: &r " + routes + "}\n";
  for (int i = 1; i < 200; ++i) {
    yaml += "  - {id: e" + std::to_string(i) + ", hosts: [x], routes: *r}\n";
  }
  EXPECT_NE(load_error(yaml).find("catalog has more than 50000 routes"), std::string::npos);
}

TEST(CatalogLoader, ManyDistinctEntriesLoad) {
  std::string yaml = kHeader;
  for (int i = 0; i < 5000; ++i) {
    const std::string n = std::to_string(i);
    yaml += "  - {id: e" + n + ", hosts: [h" + n + ".test], routes: [{path: /p" + n +
            ", family: ollama.chat}]}\n";
  }
  const ProviderCatalog catalog = ProviderCatalog::from_yaml(yaml, "big.yaml");
  EXPECT_EQ(catalog.size(), 5000u);
  const auto match = catalog.match("h4321.test", "POST", "/p4321", {});
  ASSERT_TRUE(match);
  EXPECT_EQ(match->provider, "e4321");
  EXPECT_FALSE(catalog.match("h4321.test", "POST", "/p4320", {}));
}

}  // namespace
}  // namespace llmtap::llm
