#include "policy/detection/detector_catalog.h"

#include <array>
#include <set>
#include <utility>

#include "common/yaml_reader.h"
#include "policy/detection/builtin_detector_text.h"
#include "policy/detection/pattern_facts.h"

namespace llmtap::policy {
namespace {

constexpr std::string_view kTopKeys[] = {"detectors"};
constexpr std::string_view kDetectorKeys[] = {
    "id",         "description", "category", "pattern",   "secret_group",   "min_entropy",
    "min_length", "keywords",    "anchors",  "stopwords", "allow_patterns", "validator",
    "severity",   "confidence"};

constexpr std::array<std::pair<DetectorCategory, std::string_view>, 5> kCategories = {{
    {DetectorCategory::kSecret, "secret"},
    {DetectorCategory::kPersonalData, "personal-data"},
    {DetectorCategory::kCustom, "custom"},
    {DetectorCategory::kBulk, "bulk"},
    {DetectorCategory::kPromptAttack, "prompt-attack"},
}};

constexpr std::array<std::pair<Validator, std::string_view>, 7> kValidators = {{
    {Validator::kNone, "none"},
    {Validator::kLuhn, "luhn"},
    {Validator::kIban, "iban"},
    {Validator::kUsSsn, "us-ssn"},
    {Validator::kEmail, "email"},
    {Validator::kPhone, "phone"},
    {Validator::kIpAddress, "ip"},
}};

bool is_detector_id(std::string_view id) {
  if (id.empty() || id.size() > 96) return false;
  for (const char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

template <typename Table, typename Value>
bool lookup(const Table& table, std::string_view name, Value& out) {
  for (const auto& [value, text] : table) {
    if (text == name) {
      out = value;
      return true;
    }
  }
  return false;
}

DetectorSpec read_detector(YamlReader& r, const YAML::Node& node, std::set<std::string>& ids,
                           DetectorCategory default_category) {
  r.set_context("");
  const auto f = r.fields(node, "a detector", kDetectorKeys);
  DetectorSpec d;
  d.category = default_category;
  d.source = r.source();
  d.line = node.Mark().line + 1;
  const YAML::Node& id = r.require(f, "id", node);
  d.id = r.scalar(id, "'id'");
  if (!is_detector_id(d.id)) r.fail(id, "'" + d.id + "' is not a detector id (a-z, 0-9, -, _, .)");
  if (!ids.insert(d.id).second) r.fail(id, "duplicate detector id '" + d.id + "'");
  r.set_context("detector " + d.id);
  d.pattern = r.scalar(r.require(f, "pattern", node), "'pattern'");
  if (d.pattern.empty()) r.fail(node, "'pattern' is empty");
  if (const auto* v = r.optional(f, "description")) d.description = r.scalar(*v, "'description'");
  if (const auto* v = r.optional(f, "category")) {
    if (!lookup(kCategories, r.scalar(*v, "'category'"), d.category)) {
      r.fail(*v, "unknown category '" + v->Scalar() +
                     "' (secret, personal-data, custom, bulk, prompt-attack)");
    }
  }
  if (const auto* v = r.optional(f, "secret_group")) {
    d.secret_group = static_cast<int>(r.number(*v, "'secret_group'", -1, 64));
  }
  if (const auto* v = r.optional(f, "min_entropy")) {
    d.min_entropy = r.number(*v, "'min_entropy'", 0, 8);
  }
  if (const auto* v = r.optional(f, "min_length")) {
    d.min_length = static_cast<size_t>(r.number(*v, "'min_length'", 0, 1 << 24));
  }
  if (const auto* v = r.optional(f, "keywords")) d.keywords = r.strings(*v, "'keywords'");
  if (const auto* v = r.optional(f, "anchors")) {
    for (const auto& a : r.strings(*v, "'anchors'")) {
      const auto bytes = decode_byte_escapes(a);
      if (!bytes || bytes->empty()) {
        r.fail(*v, "anchor '" + a + "' is empty or has a bad escape (\\xHH for a byte)");
      }
      d.anchors.push_back(*bytes);
    }
  }
  if (const auto* v = r.optional(f, "stopwords")) d.stopwords = r.strings(*v, "'stopwords'");
  if (const auto* v = r.optional(f, "allow_patterns")) {
    d.allow_patterns = r.strings(*v, "'allow_patterns'");
  }
  if (const auto* v = r.optional(f, "validator")) {
    if (!lookup(kValidators, r.scalar(*v, "'validator'"), d.validator)) {
      r.fail(*v, "unknown validator '" + v->Scalar() + "' (luhn, iban, us-ssn, email, phone, ip)");
    }
  }
  if (const auto* v = r.optional(f, "severity")) {
    const auto s = parse_severity(r.scalar(*v, "'severity'"));
    if (!s)
      r.fail(*v, "unknown severity '" + v->Scalar() + "' (info, low, medium, high, critical)");
    d.severity = *s;
  }
  if (const auto* v = r.optional(f, "confidence")) {
    const auto c = parse_confidence(r.scalar(*v, "'confidence'"));
    if (!c) r.fail(*v, "unknown confidence '" + v->Scalar() + "' (low, medium, high)");
    d.confidence = *c;
  }
  return d;
}

}  // namespace

std::vector<DetectorSpec> read_detector_list(YamlReader& r, const YAML::Node& list,
                                             DetectorCategory default_category) {
  std::vector<DetectorSpec> out;
  std::set<std::string> ids;
  for (const auto& node : r.sequence(list, "'detectors'")) {
    out.push_back(read_detector(r, node, ids, default_category));
  }
  r.set_context("");
  return out;
}

std::vector<DetectorSpec> read_detector_file(const std::string& yaml_text,
                                             const std::string& source) {
  const YAML::Node root = parse_yaml_document(yaml_text, source);
  YamlReader r(source);
  const auto top = r.fields(root, "a detector file", kTopKeys);
  return read_detector_list(r, r.require(top, "detectors", root), DetectorCategory::kSecret);
}

const std::vector<DetectorSpec>& builtin_detectors() {
  static const std::vector<DetectorSpec> detectors = [] {
    std::vector<DetectorSpec> all;
    for (const auto& [text, name] : builtin_detector_files()) {
      auto part = read_detector_file(std::string(text), std::string(name));
      for (auto& d : part) d.source = "builtin:" + std::string(name);
      all.insert(all.end(), std::make_move_iterator(part.begin()),
                 std::make_move_iterator(part.end()));
    }
    return all;
  }();
  return detectors;
}

std::string_view category_name(DetectorCategory c) {
  for (const auto& [value, name] : kCategories) {
    if (value == c) return name;
  }
  return "unknown";
}

}  // namespace llmtap::policy
