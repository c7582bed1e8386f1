#include "policy/detection/gitleaks_rules.h"

#include <toml++/toml.h>

#include "common/yaml_reader.h"

namespace llmtap::policy {
namespace {

std::string where(const std::string& source, const toml::source_region& r) {
  return source + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column);
}

[[noreturn]] void fail(const std::string& source, const toml::node& at, const std::string& what) {
  throw YamlError(where(source, at.source()) + ": " + what);
}

std::vector<std::string> string_list(const std::string& source, const toml::node* node,
                                     const std::string& what) {
  std::vector<std::string> out;
  if (node == nullptr) return out;
  const toml::array* array = node->as_array();
  if (array == nullptr) fail(source, *node, what + " must be an array of strings");
  for (const toml::node& item : *array) {
    const auto* s = item.as_string();
    if (s == nullptr) fail(source, item, what + " must hold strings");
    out.push_back(s->get());
  }
  return out;
}

// One allowlist table: what it adds to the detector, and what it cannot.
void read_allowlist(const std::string& source, const toml::table& allow, DetectorSpec& d,
                    std::vector<DetectorProblem>& problems, bool report = true) {
  const std::string target = allow["regexTarget"].value_or<std::string>("secret");
  const std::string condition = allow["condition"].value_or<std::string>("OR");
  const auto regexes = string_list(source, allow.get("regexes"), "'regexes'");
  const auto stopwords = string_list(source, allow.get("stopwords"), "'stopwords'");
  const int parts =
      (regexes.empty() ? 0 : 1) + (stopwords.empty() ? 0 : 1) + (allow.contains("paths") ? 1 : 0);
  if (report && condition == "AND" && parts > 1) {
    problems.push_back({d.id, source, d.line,
                        "allowlist condition AND is applied as OR (an entry alone allows)", false});
  }
  if (report && allow.contains("paths")) {
    problems.push_back(
        {d.id, source, d.line, "allowlist paths ignored: traffic has no path", false});
  }
  if (target == "secret") {
    d.allow_patterns.insert(d.allow_patterns.end(), regexes.begin(), regexes.end());
  } else if (!regexes.empty()) {
    // The whole match or line is not kept: applied to the secret, it allows less, never more.
    if (report) {
      problems.push_back({d.id, source, d.line,
                          "allowlist regexTarget '" + target + "' applied to the secret", false});
    }
    d.allow_patterns.insert(d.allow_patterns.end(), regexes.begin(), regexes.end());
  }
  d.stopwords.insert(d.stopwords.end(), stopwords.begin(), stopwords.end());
}

}  // namespace

GitleaksRules read_gitleaks_rules(const std::string& toml_text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    throw YamlError(where(source, e.source()) + ": " + std::string(e.description()));
  }
  GitleaksRules out;
  const toml::array* rules = root["rules"].as_array();
  if (rules == nullptr) {
    if (root.contains("rules"))
      fail(source, *root.get("rules"), "'rules' must be [[rules]] tables");
    throw YamlError(source + ": no [[rules]]");
  }
  // A global [allowlist] (or [[allowlists]]) applies to every rule.
  std::vector<const toml::table*> global;
  if (const auto* a = root["allowlist"].as_table()) global.push_back(a);
  if (const auto* list = root["allowlists"].as_array()) {
    for (const auto& a : *list) {
      if (const auto* t = a.as_table()) global.push_back(t);
    }
  }
  for (const toml::node& node : *rules) {
    const toml::table* rule = node.as_table();
    if (rule == nullptr) fail(source, node, "a rule must be a table");
    DetectorSpec d;
    d.source = source;
    d.line = static_cast<int>(rule->source().begin.line);
    d.category = DetectorCategory::kSecret;
    d.severity = Severity::kHigh;
    d.confidence = Confidence::kMedium;
    const auto id = (*rule)["id"].value<std::string>();
    if (!id || id->empty()) fail(source, node, "a rule needs an 'id'");
    d.id = *id;
    d.description = (*rule)["description"].value_or<std::string>("");
    const auto regex = (*rule)["regex"].value<std::string>();
    if (!regex) {
      out.problems.push_back(
          {d.id, source, d.line, "a path-only rule: skipped (traffic has no path)", false});
      continue;
    }
    d.pattern = *regex;
    if (const auto group = (*rule)["secretGroup"].value<int64_t>()) {
      d.secret_group = static_cast<int>(*group);
    } else {
      d.secret_group = -1;  // gitleaks: the first group that matched, else the whole match
    }
    if (const auto entropy = (*rule)["entropy"].value<double>()) d.min_entropy = *entropy;
    d.keywords = string_list(source, rule->get("keywords"), "'keywords'");
    if (rule->contains("path")) {
      out.problems.push_back({d.id, source, d.line, "'path' ignored: traffic has no path", false});
    }
    if (const auto* a = (*rule)["allowlist"].as_table())
      read_allowlist(source, *a, d, out.problems);
    if (const auto* list = (*rule)["allowlists"].as_array()) {
      for (const auto& a : *list) {
        if (const auto* t = a.as_table()) read_allowlist(source, *t, d, out.problems);
      }
    }
    for (const toml::table* a : global) read_allowlist(source, *a, d, out.problems, false);
    out.detectors.push_back(std::move(d));
  }
  return out;
}

GitleaksRules load_gitleaks_rules(const std::string& path) {
  const YamlLimits limits;
  const std::string text = read_config_file(path, limits);
  if (text.size() > limits.max_text_bytes) {
    throw YamlError(path + ": larger than " + std::to_string(limits.max_text_bytes) + " bytes");
  }
  return read_gitleaks_rules(text, path);
}

}  // namespace llmtap::policy
