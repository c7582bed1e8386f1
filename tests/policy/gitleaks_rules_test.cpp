// The gitleaks loader against gitleaks' own rules and their true/false-positive cases
// (../shared/dlp): the rule file is written as gitleaks TOML from its JSON form, loaded,
// compiled, and every case scanned. Recall and false-positive hits are reported per rule.
#include "policy/detection/gitleaks_rules.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/yaml_reader.h"

namespace llmtap::policy {
namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  return nlohmann::json::parse(in);
}

std::string toml_string(const std::string& s) {
  // A literal multi-line string holds any regex but one with ''' (none in gitleaks' set).
  return "'''" + s + "'''";
}

std::string as_gitleaks_toml(const nlohmann::json& rules) {
  std::ostringstream toml;
  toml << "title = \"gitleaks default rules (from ../shared/dlp)\"\n";
  for (const auto& r : rules) {
    toml << "\n[[rules]]\nid = \"" << r["id"].get<std::string>() << "\"\n";
    toml << "regex = " << toml_string(r["regex"].get<std::string>()) << "\n";
    if (r["secretGroup"].get<int>() != 0) toml << "secretGroup = " << r["secretGroup"] << "\n";
    if (r["entropy"].get<double>() != 0) toml << "entropy = " << r["entropy"].get<double>() << "\n";
    if (!r["keywords"].empty()) {
      toml << "keywords = [";
      for (size_t i = 0; i < r["keywords"].size(); ++i) {
        toml << (i ? ", " : "") << toml_string(r["keywords"][i].get<std::string>());
      }
      toml << "]\n";
    }
  }
  return toml.str();
}

TEST(GitleaksRules, ReadsRulesAndReportsWhatATextScannerCannotHonour) {
  const auto rules = read_gitleaks_rules(R"(
[allowlist]
paths = ['''vendor/''']
[[rules]]
id = "acme-token"
description = "ACME token"
regex = '''acme_([a-z0-9]{16})'''
secretGroup = 1
entropy = 3.0
keywords = ["acme_"]
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''EXAMPLE''']
stopwords = ["sample"]
[[rules]]
id = "key-file"
path = '''\.pem$'''
)",
                                         "rules.toml");
  ASSERT_EQ(rules.detectors.size(), 1u);
  const DetectorSpec& d = rules.detectors[0];
  EXPECT_EQ(d.id, "acme-token");
  EXPECT_EQ(d.secret_group, 1);
  EXPECT_DOUBLE_EQ(d.min_entropy, 3.0);
  EXPECT_EQ(d.keywords, std::vector<std::string>{"acme_"});
  EXPECT_EQ(d.stopwords, std::vector<std::string>{"sample"});
  EXPECT_EQ(d.allow_patterns, std::vector<std::string>{"EXAMPLE"});
  EXPECT_EQ(rules.problems.size(), 2u);  // regexTarget line approximated; path-only skipped
}

TEST(GitleaksRules, BrokenFilesGiveTheirLocation) {
  try {
    read_gitleaks_rules("[[rules]]\nid = \"x\"\nregex = '''a\n", "broken.toml");
    FAIL() << "no error";
  } catch (const YamlError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("broken.toml:", 0), 0u) << e.what();
  }
  EXPECT_THROW(read_gitleaks_rules("[[rules]]\nregex = 'a'\n", "noid.toml"), YamlError);
  EXPECT_THROW(read_gitleaks_rules("title = 'none'\n", "empty.toml"), YamlError);
}

TEST(GitleaksRules, RecallOnGitleaksOwnCases) {
  const auto rules_json = read_json(LLMTAP_DLP_DIR "/gitleaks_rules.json");
  const auto cases = read_json(LLMTAP_DLP_DIR "/gitleaks_cases.json");
  if (rules_json.is_null() || cases.is_null()) GTEST_SKIP() << "no " LLMTAP_DLP_DIR;
  const GitleaksRules rules = read_gitleaks_rules(as_gitleaks_toml(rules_json), "gitleaks.toml");
  std::vector<DetectorProblem> problems;
  const auto scanner = ContentScanner::build(rules.detectors, &problems);
  size_t fatal = 0;
  size_t re2_only = 0;
  for (const auto& p : problems) {
    if (p.fatal) {
      ++fatal;
      std::cout << "gitleaks rule not usable: " << p.detector_id << ": " << p.message << "\n";
    } else {
      ++re2_only;
    }
  }
  struct Counts {
    size_t tp = 0, tp_found = 0, fp = 0, fp_hits = 0;
  };
  std::map<std::string, Counts> per_rule;
  for (const auto& c : cases) {
    if (c.contains("path")) continue;  // path-based: a text scanner has no path
    const std::string rule = c["rule"];
    const std::string text = c["text"];
    bool hit = false;
    for (const auto& d : scanner->scan(text).detections) hit |= d.detector_id == rule;
    Counts& n = per_rule[rule];
    if (c["kind"] == "tp") {
      ++n.tp;
      n.tp_found += hit ? 1 : 0;
    } else {
      ++n.fp;
      n.fp_hits += hit ? 1 : 0;
    }
  }
  Counts total;
  for (const auto& [rule, n] : per_rule) {
    total.tp += n.tp;
    total.tp_found += n.tp_found;
    total.fp += n.fp;
    total.fp_hits += n.fp_hits;
    if (n.tp_found != n.tp || n.fp_hits != 0) {
      std::cout << "  " << rule << ": recall " << n.tp_found << "/" << n.tp
                << ", false-positive hits " << n.fp_hits << "/" << n.fp << "\n";
    }
  }
  const double recall = total.tp ? static_cast<double>(total.tp_found) / total.tp : 0;
  std::cout << "gitleaks: " << rules.detectors.size() << " rules loaded (" << fatal << " unusable, "
            << re2_only << " by RE2 alone), " << per_rule.size() << " rules with cases; recall "
            << total.tp_found << "/" << total.tp << " = " << recall << ", false-positive hits "
            << total.fp_hits << "/" << total.fp << std::endl;
  EXPECT_EQ(fatal, 0u);
  EXPECT_GE(recall, 0.97);
  // gitleaks silences most of its false-positive cases with per-rule allowlists, which the
  // JSON form of its rules only counts (it does not carry them): those hits are expected.
  EXPECT_LE(total.fp_hits, total.fp * 3 / 10);
}

}  // namespace
}  // namespace llmtap::policy
