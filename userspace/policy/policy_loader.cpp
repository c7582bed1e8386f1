#include "policy/policy_loader.h"

#include <algorithm>
#include <set>

#include "common/yaml_reader.h"
#include "policy/builtin_policy_text.h"
#include "policy/detection/detector_catalog.h"
#include "policy/glob.h"

namespace llmtap::policy {
namespace {

constexpr std::string_view kTopKeys[] = {"version", "detectors", "keywords", "rules", "disable"};
constexpr std::string_view kRuleKeys[] = {"id",    "description", "severity", "action",
                                          "mode",  "block",       "scope",    "exceptions",
                                          "model", "data",        "volume",   "prompt_attack"};
constexpr std::string_view kScopeKeys[] = {"namespaces", "pod_labels", "containers", "processes",
                                           "uids"};
constexpr std::string_view kModelKeys[] = {"allow", "deny", "unknown", "organisation_keys"};
constexpr std::string_view kModelPatternKeys[] = {"provider", "models"};
constexpr std::string_view kKeyKeys[] = {"sha256", "providers"};
constexpr std::string_view kDataKeys[] = {"detectors", "scan", "min_confidence",
                                          "max_distinct_detectors"};
constexpr std::string_view kVolumeKeys[] = {"per", "window", "max_tokens", "max_bytes"};
constexpr std::string_view kAttackKeys[] = {"min_indicators"};
constexpr std::string_view kKeywordKeys[] = {"id", "description", "words", "severity",
                                             "confidence"};
constexpr std::string_view kBodyKinds[] = {"model", "data", "volume", "prompt_attack"};

bool is_rule_id(std::string_view id) {
  return !id.empty() && id.size() <= 96 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

class PolicyReader {
 public:
  PolicyReader(const std::string& source) : r_(source) {}
  void read(const YAML::Node& root, Policy& into);

 private:
  std::string glob(const YAML::Node& node, std::string_view what) {
    const std::string text = r_.scalar(node, what);
    if (const auto problem = glob_problem(text)) r_.fail(node, std::string(what) + ": " + *problem);
    return text;
  }
  std::vector<std::string> globs(const YAML::Node& node, std::string_view what) {
    std::vector<std::string> out;
    if (node.IsScalar()) return {glob(node, what)};
    for (const auto& item : r_.sequence(node, what)) out.push_back(glob(item, what));
    return out;
  }
  Scope read_scope(const YAML::Node& node);
  ModelPattern read_model_pattern(const YAML::Node& node);
  ModelRule read_model(const YAML::Node& node);
  DataRule read_data(const YAML::Node& node);
  VolumeRule read_volume(const YAML::Node& node);
  PromptAttackRule read_attack(const YAML::Node& node);
  Rule read_rule(const YAML::Node& node);
  DetectorSpec read_keywords(const YAML::Node& node);

  YamlReader r_;
};

Scope PolicyReader::read_scope(const YAML::Node& node) {
  const auto f = r_.fields(node, "a scope", kScopeKeys);
  Scope s;
  if (const auto* v = r_.optional(f, "namespaces")) s.namespaces = globs(*v, "'namespaces'");
  if (const auto* v = r_.optional(f, "containers")) s.containers = globs(*v, "'containers'");
  if (const auto* v = r_.optional(f, "processes")) s.processes = globs(*v, "'processes'");
  if (const auto* v = r_.optional(f, "uids")) {
    for (const auto& item : r_.sequence(*v, "'uids'")) {
      s.uids.push_back(static_cast<uint32_t>(r_.number(item, "a uid", 0, 4294967295.0)));
    }
  }
  if (const auto* v = r_.optional(f, "pod_labels")) {
    if (!v->IsMap()) r_.fail(*v, "'pod_labels' must be a mapping of label to value");
    for (const auto& pair : *v) {
      s.pod_labels[r_.scalar(pair.first, "a label")] = glob(pair.second, "a label value");
    }
  }
  return s;
}

ModelPattern PolicyReader::read_model_pattern(const YAML::Node& node) {
  const auto f = r_.fields(node, "a model pattern", kModelPatternKeys);
  ModelPattern p;
  if (const auto* v = r_.optional(f, "provider")) p.provider = glob(*v, "'provider'");
  if (const auto* v = r_.optional(f, "models")) p.models = globs(*v, "'models'");
  if (p.provider.empty() && p.models.empty())
    r_.fail(node, "a model pattern needs 'provider' or 'models'");
  return p;
}

ModelRule PolicyReader::read_model(const YAML::Node& node) {
  const auto f = r_.fields(node, "'model'", kModelKeys);
  ModelRule m;
  if (const auto* v = r_.optional(f, "allow")) {
    for (const auto& item : r_.sequence(*v, "'allow'")) m.allow.push_back(read_model_pattern(item));
  }
  if (const auto* v = r_.optional(f, "deny")) {
    for (const auto& item : r_.sequence(*v, "'deny'")) m.deny.push_back(read_model_pattern(item));
  }
  if (const auto* v = r_.optional(f, "unknown")) m.unknown = r_.boolean(*v, "'unknown'");
  if (const auto* v = r_.optional(f, "organisation_keys")) {
    const auto k = r_.fields(*v, "'organisation_keys'", kKeyKeys);
    for (const auto& item : r_.sequence(r_.require(k, "sha256", *v), "'sha256'")) {
      std::string lower = r_.scalar(item, "a key hash");
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower.size() != 64 || lower.find_first_not_of("0123456789abcdef") != std::string::npos) {
        // Never echo it: it may be a key put here by mistake.
        r_.fail(
            item,
            "a 'sha256' entry is not a SHA-256 in hex (64 digits); never put a key itself here");
      }
      m.organisation_key_sha256.push_back(lower);
    }
    if (const auto* p = r_.optional(k, "providers")) m.key_providers = globs(*p, "'providers'");
  }
  if (m.allow.empty() && m.deny.empty() && !m.unknown && m.organisation_key_sha256.empty()) {
    r_.fail(node, "'model' needs at least one of allow, deny, unknown, organisation_keys");
  }
  return m;
}

DataRule PolicyReader::read_data(const YAML::Node& node) {
  DataRule d;
  if (node.IsNull()) return d;
  const auto f = r_.fields(node, "'data'", kDataKeys);
  if (const auto* v = r_.optional(f, "detectors")) d.detectors = globs(*v, "'detectors'");
  if (const auto* v = r_.optional(f, "scan")) {
    d.scan_requests = d.scan_responses = false;
    for (const std::string& what : r_.strings(*v, "'scan'")) {
      if (what == "request") {
        d.scan_requests = true;
      } else if (what == "response") {
        d.scan_responses = true;
      } else {
        r_.fail(*v, "'scan' takes request and response, not '" + what + "'");
      }
    }
  }
  if (const auto* v = r_.optional(f, "min_confidence")) {
    const auto c = parse_confidence(r_.scalar(*v, "'min_confidence'"));
    if (!c) r_.fail(*v, "unknown confidence (low, medium, high)");
    d.min_confidence = *c;
  }
  if (const auto* v = r_.optional(f, "max_distinct_detectors")) {
    d.max_distinct_detectors =
        static_cast<uint32_t>(r_.number(*v, "'max_distinct_detectors'", 1, 1000));
  }
  return d;
}

uint64_t parse_duration_seconds(YamlReader& r, const YAML::Node& node) {
  const std::string text = r.scalar(node, "'window'");
  if (text.empty()) r.fail(node, "'window' is empty");
  uint64_t scale = 1;
  std::string digits = text;
  switch (text.back()) {
    case 's':
      digits.pop_back();
      break;
    case 'm':
      scale = 60;
      digits.pop_back();
      break;
    case 'h':
      scale = 3600;
      digits.pop_back();
      break;
    case 'd':
      scale = 86400;
      digits.pop_back();
      break;
    default:
      break;
  }
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
      digits.size() > 6) {
    r.fail(node, "'window' must be a duration such as 3600, 90s, 15m, 1h or 1d");
  }
  const uint64_t seconds = std::stoull(digits) * scale;
  if (seconds == 0 || seconds > 7 * 86400) r.fail(node, "'window' must be from 1 s to 7 days");
  return seconds;
}

VolumeRule PolicyReader::read_volume(const YAML::Node& node) {
  const auto f = r_.fields(node, "'volume'", kVolumeKeys);
  VolumeRule v;
  if (const auto* p = r_.optional(f, "per")) {
    const std::string per = r_.scalar(*p, "'per'");
    if (per == "process") {
      v.per = VolumePer::kProcess;
    } else if (per == "container") {
      v.per = VolumePer::kContainer;
    } else if (per == "pod") {
      v.per = VolumePer::kPod;
    } else {
      r_.fail(*p, "'per' takes process, container or pod, not '" + per + "'");
    }
  }
  if (const auto* w = r_.optional(f, "window")) v.window_seconds = parse_duration_seconds(r_, *w);
  if (const auto* t = r_.optional(f, "max_tokens")) {
    v.max_tokens = static_cast<uint64_t>(r_.number(*t, "'max_tokens'", 1, 1e15));
  }
  if (const auto* b = r_.optional(f, "max_bytes")) {
    v.max_bytes = static_cast<uint64_t>(r_.number(*b, "'max_bytes'", 1, 1e15));
  }
  if (v.max_tokens == 0 && v.max_bytes == 0)
    r_.fail(node, "'volume' needs max_tokens or max_bytes");
  return v;
}

PromptAttackRule PolicyReader::read_attack(const YAML::Node& node) {
  PromptAttackRule a;
  if (node.IsNull()) return a;
  const auto f = r_.fields(node, "'prompt_attack'", kAttackKeys);
  if (const auto* v = r_.optional(f, "min_indicators")) {
    a.min_indicators = static_cast<uint32_t>(r_.number(*v, "'min_indicators'", 1, 100));
  }
  return a;
}

Rule PolicyReader::read_rule(const YAML::Node& node) {
  r_.set_context("");
  // Errors name the rule from the start, even those about its keys.
  if (node.IsMap() && node["id"] && node["id"].IsScalar())
    r_.set_context("rule " + node["id"].Scalar());
  const auto f = r_.fields(node, "a rule", kRuleKeys);
  Rule rule;
  const YAML::Node& id = r_.require(f, "id", node);
  rule.id = r_.scalar(id, "'id'");
  if (!is_rule_id(rule.id)) r_.fail(id, "'" + rule.id + "' is not a rule id (a-z, 0-9, -, _, .)");
  r_.set_context("rule " + rule.id);
  rule.source = r_.source() + ":" + std::to_string(node.Mark().line + 1);
  if (const auto* v = r_.optional(f, "description"))
    rule.description = r_.scalar(*v, "'description'");
  if (const auto* v = r_.optional(f, "severity")) {
    const auto s = parse_severity(r_.scalar(*v, "'severity'"));
    if (!s)
      r_.fail(*v, "unknown severity '" + v->Scalar() + "' (info, low, medium, high, critical)");
    rule.severity = *s;
  }
  if (const auto* v = r_.optional(f, "action")) {
    const std::string a = r_.scalar(*v, "'action'");
    if (a == "alert") {
      rule.action = Action::kAlert;
    } else if (a == "kill-connection") {
      rule.action = Action::kKillConnection;
    } else if (a == "kill-process") {
      rule.action = Action::kKillProcess;
    } else if (a == "hold") {
      rule.action = Action::kHold;
    } else {
      r_.fail(*v, "unknown action '" + a + "' (alert, kill-connection, kill-process, hold)");
    }
  }
  if (const auto* v = r_.optional(f, "mode")) {
    const std::string m = r_.scalar(*v, "'mode'");
    if (m == "audit") {
      rule.mode = RuleMode::kAudit;
    } else if (m == "enforce") {
      rule.mode = RuleMode::kEnforce;
    } else {
      r_.fail(*v, "unknown mode '" + m + "' (audit, enforce)");
    }
  }
  if (const auto* v = r_.optional(f, "block")) {
    const std::string b = r_.scalar(*v, "'block'");
    if (rule.action != Action::kHold) r_.fail(*v, "'block' goes with action: hold");
    if (b == "kill-process") {
      rule.hold_kills_process = true;
    } else if (b != "kill-connection") {
      r_.fail(*v, "unknown block '" + b + "' (kill-connection, kill-process)");
    }
  }
  if (const auto* v = r_.optional(f, "scope")) rule.scope = read_scope(*v);
  if (const auto* v = r_.optional(f, "exceptions")) {
    for (const auto& item : r_.sequence(*v, "'exceptions'"))
      rule.exceptions.push_back(read_scope(item));
  }
  int kinds = 0;
  for (const std::string_view kind : kBodyKinds) kinds += f.contains(std::string(kind)) ? 1 : 0;
  if (kinds != 1) r_.fail(node, "a rule needs exactly one of model, data, volume, prompt_attack");
  if (const auto* v = r_.optional(f, "model")) rule.body = read_model(*v);
  if (const auto* v = r_.optional(f, "data")) rule.body = read_data(*v);
  if (const auto* v = r_.optional(f, "volume")) rule.body = read_volume(*v);
  if (const auto* v = r_.optional(f, "prompt_attack")) rule.body = read_attack(*v);
  rule.severity_from_detectors =
      std::holds_alternative<DataRule>(rule.body) && !f.contains("severity");
  return rule;
}

// A keyword list is a custom detector: the words, escaped, as one case-insensitive pattern.
DetectorSpec PolicyReader::read_keywords(const YAML::Node& node) {
  r_.set_context("");
  const auto f = r_.fields(node, "a keyword list", kKeywordKeys);
  DetectorSpec d;
  d.category = DetectorCategory::kCustom;
  d.source = r_.source();
  d.line = node.Mark().line + 1;
  d.id = r_.scalar(r_.require(f, "id", node), "'id'");
  if (!is_rule_id(d.id)) r_.fail(node, "'" + d.id + "' is not a detector id");
  r_.set_context("keywords " + d.id);
  if (const auto* v = r_.optional(f, "description")) d.description = r_.scalar(*v, "'description'");
  std::string pattern;
  for (const std::string& word : r_.strings(r_.require(f, "words", node), "'words'")) {
    if (word.empty()) r_.fail(node, "an empty word");
    std::string escaped;
    for (const char c : word) {
      if (std::string_view("\\.^$|()[]{}*+?").find(c) != std::string_view::npos) escaped += '\\';
      escaped += c;
    }
    pattern += (pattern.empty() ? "" : "|") + escaped;
  }
  d.pattern = "(?i)\\b(?:" + pattern + ")\\b";
  if (const auto* v = r_.optional(f, "severity")) {
    const auto s = parse_severity(r_.scalar(*v, "'severity'"));
    if (!s) r_.fail(*v, "unknown severity");
    d.severity = *s;
  }
  d.confidence = Confidence::kHigh;
  if (const auto* v = r_.optional(f, "confidence")) {
    const auto c = parse_confidence(r_.scalar(*v, "'confidence'"));
    if (!c) r_.fail(*v, "unknown confidence");
    d.confidence = *c;
  }
  return d;
}

void PolicyReader::read(const YAML::Node& root, Policy& into) {
  if (root.IsNull()) return;  // an empty file adds nothing
  const auto top = r_.fields(root, "a policy file", kTopKeys);
  if (const auto* v = r_.optional(top, "version")) {
    if (r_.scalar(*v, "'version'") != "1")
      r_.fail(*v, "unknown policy version (this llmtap reads 1)");
  }
  std::set<std::string> ids;
  if (const auto* v = r_.optional(top, "rules")) {
    for (const auto& node : r_.sequence(*v, "'rules'")) {
      Rule rule = read_rule(node);
      if (!ids.insert(rule.id).second) r_.fail(node, "duplicate rule id in this file");
      auto same = std::find_if(into.rules.begin(), into.rules.end(),
                               [&](const Rule& r) { return r.id == rule.id; });
      if (same != into.rules.end()) {
        *same = std::move(rule);
      } else {
        into.rules.push_back(std::move(rule));
      }
    }
  }
  auto add_detector = [&](DetectorSpec d) {
    auto same = std::find_if(into.detectors.begin(), into.detectors.end(),
                             [&](const DetectorSpec& x) { return x.id == d.id; });
    if (same != into.detectors.end()) {
      *same = std::move(d);
    } else {
      into.detectors.push_back(std::move(d));
    }
  };
  if (const auto* v = r_.optional(top, "detectors")) {
    // Same keys as a detector file; their category defaults to custom.
    for (auto& d : read_detector_list(r_, *v, DetectorCategory::kCustom))
      add_detector(std::move(d));
  }
  if (const auto* v = r_.optional(top, "keywords")) {
    for (const auto& node : r_.sequence(*v, "'keywords'")) add_detector(read_keywords(node));
  }
  if (const auto* v = r_.optional(top, "disable")) {
    r_.set_context("");
    for (const std::string& id : r_.strings(*v, "'disable'")) into.disabled.push_back(id);
  }
}

}  // namespace

void read_policy_file(const std::string& yaml_text, const std::string& source, Policy& into) {
  const YAML::Node root = parse_yaml_document(yaml_text, source);
  PolicyReader(source).read(root, into);
  into.sources.push_back(source);
}

Policy builtin_policy() {
  Policy p;
  read_policy_file(std::string(builtin_policy_text()), "builtin:default-policy.yaml", p);
  return p;
}

Policy load_policy(const std::vector<std::string>& files) {
  Policy p = builtin_policy();
  for (const std::string& file : files) read_policy_file(read_config_file(file), file, p);
  return p;
}

std::string_view action_name(Action a) {
  switch (a) {
    case Action::kAlert:
      return "alert";
    case Action::kKillConnection:
      return "kill-connection";
    case Action::kKillProcess:
      return "kill-process";
    case Action::kHold:
      return "hold";
  }
  return "alert";
}

std::string_view rule_kind(const RuleBody& body) {
  switch (body.index()) {
    case 0:
      return "model";
    case 1:
      return "data";
    case 2:
      return "volume";
    default:
      return "prompt_attack";
  }
}

}  // namespace llmtap::policy
