#include "common/yaml_reader.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "common/yaml_document_check.h"
#include "common/yaml_nesting_scan.h"

namespace llmtap {

std::string read_config_file(const std::string& path, const YamlLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw YamlError(path + ": cannot read");
  std::string text(limits.max_text_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) throw YamlError(path + ": cannot read");
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

YAML::Node parse_yaml_document(const std::string& text, const std::string& source,
                               const YamlLimits& limits) {
  if (text.size() > limits.max_text_bytes) {
    throw YamlError(source + ": larger than " + std::to_string(limits.max_text_bytes) + " bytes");
  }
  if (const auto deep = find_excessive_nesting(text, NestingLimits{})) {
    throw YamlError(source + ":" + std::to_string(deep->line) + ":" + std::to_string(deep->column) +
                    ": nested too deeply");
  }
  try {
    if (const auto second = find_second_document(text)) {
      throw YamlError(source + ":" + std::to_string(second->line + 1) + ":" +
                      std::to_string(second->column + 1) + ": only one YAML document is allowed");
    }
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw YamlError(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                    std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

void YamlReader::fail(const YAML::Node& at, const std::string& what) const {
  fail(at.IsDefined() ? at.Mark() : last_mark_, what);
}

void YamlReader::fail(const YAML::Mark& mark, const std::string& what) const {
  const YAML::Mark& at = mark.is_null() ? last_mark_ : mark;
  const int line = at.is_null() ? 1 : at.line + 1;
  const int column = at.is_null() ? 1 : at.column + 1;
  throw YamlError(source_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                  (context_.empty() ? "" : context_ + ": ") + what);
}

std::unordered_map<std::string, YamlField> YamlReader::fields(
    const YAML::Node& map, std::string_view what, std::span<const std::string_view> allowed) {
  if (!map.IsMap()) fail(map, std::string(what) + " must be a mapping");
  std::unordered_map<std::string, YamlField> out;
  for (const auto& pair : map) {
    last_mark_ = pair.first.Mark();
    const std::string key = scalar(pair.first, "a key");
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string known;
      for (const std::string_view k : allowed)
        known += (known.empty() ? "" : ", ") + std::string(k);
      fail(pair.first,
           "unknown key '" + key + "' in " + std::string(what) + " (known: " + known + ")");
    }
    if (!out.emplace(key, YamlField{pair.first, pair.second}).second) {
      fail(pair.first, "duplicate key '" + key + "' in " + std::string(what));
    }
  }
  return out;
}

const YAML::Node* YamlReader::optional(const std::unordered_map<std::string, YamlField>& f,
                                       const std::string& key) const {
  const auto it = f.find(key);
  return it == f.end() ? nullptr : &it->second.value;
}

const YAML::Node& YamlReader::require(const std::unordered_map<std::string, YamlField>& f,
                                      const std::string& key, const YAML::Node& owner) const {
  const auto it = f.find(key);
  if (it == f.end()) fail(owner, "'" + key + "' is missing");
  return it->second.value;
}

std::string YamlReader::scalar(const YAML::Node& node, std::string_view what) const {
  if (!node.IsScalar()) fail(node, std::string(what) + " must be a string");
  const std::string& text = node.Scalar();
  if (text.size() > limits_.max_scalar_bytes) {
    fail(node, std::string(what) + " is longer than " + std::to_string(limits_.max_scalar_bytes) +
                   " bytes");
  }
  return text;
}

double YamlReader::number(const YAML::Node& node, std::string_view what, double min,
                          double max) const {
  const std::string text = scalar(node, what);
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !std::isfinite(value) || value < min || value > max) {
    fail(node, std::string(what) + " must be a number from " + std::to_string(min) + " to " +
                   std::to_string(max) + ", not '" + text + "'");
  }
  return value;
}

bool YamlReader::boolean(const YAML::Node& node, std::string_view what) const {
  const std::string text = scalar(node, what);
  if (text == "true") return true;
  if (text == "false") return false;
  fail(node, std::string(what) + " must be true or false");
}

const YAML::Node& YamlReader::sequence(const YAML::Node& node, std::string_view what) const {
  if (!node.IsSequence()) fail(node, std::string(what) + " must be a list");
  if (node.size() > limits_.max_items) {
    fail(node,
         std::string(what) + " has more than " + std::to_string(limits_.max_items) + " items");
  }
  return node;
}

std::vector<std::string> YamlReader::strings(const YAML::Node& node, std::string_view what) const {
  if (node.IsScalar()) return {scalar(node, what)};
  std::vector<std::string> out;
  for (const auto& item : sequence(node, what)) out.push_back(scalar(item, what));
  return out;
}

}  // namespace llmtap
