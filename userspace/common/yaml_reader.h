#pragma once
// Strict reading of user-written YAML (policies, detector files): unknown or duplicate keys,
// wrong types and oversized values are errors that name the file, line and column, and the
// caller's context (e.g. "rule cloud-keys"). Hostile input is bounded before yaml-cpp sees it.

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace llmtap {

// "file:line:column: context: what is wrong"
class YamlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct YamlLimits {
  size_t max_text_bytes = 4 << 20;
  size_t max_scalar_bytes = 64 << 10;
  size_t max_items = 10000;  // per list
};

// The text of a user's config file, read no further than one byte past `limits.max_text_bytes`
// (so an oversized file is reported, not loaded whole). Throws YamlError when unreadable.
std::string read_config_file(const std::string& path, const YamlLimits& limits = {});

// Parses one document from `text` (a second document is an error). Throws YamlError.
YAML::Node parse_yaml_document(const std::string& text, const std::string& source,
                               const YamlLimits& limits = {});

struct YamlField {
  YAML::Node key;
  YAML::Node value;
};

class YamlReader {
 public:
  explicit YamlReader(std::string source, YamlLimits limits = {})
      : source_(std::move(source)), limits_(limits) {}

  // What errors are about from now on ("rule cloud-keys"); "" for none.
  void set_context(std::string context) { context_ = std::move(context); }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const;
  [[noreturn]] void fail(const YAML::Mark& at, const std::string& what) const;

  // The mapping's fields; a key not in `allowed`, or twice, is an error.
  std::unordered_map<std::string, YamlField> fields(const YAML::Node& map, std::string_view what,
                                                    std::span<const std::string_view> allowed);
  const YAML::Node* optional(const std::unordered_map<std::string, YamlField>& f,
                             const std::string& key) const;
  const YAML::Node& require(const std::unordered_map<std::string, YamlField>& f,
                            const std::string& key, const YAML::Node& owner) const;
  std::string scalar(const YAML::Node& node, std::string_view what) const;
  double number(const YAML::Node& node, std::string_view what, double min, double max) const;
  bool boolean(const YAML::Node& node, std::string_view what) const;
  // A list of scalars (a single scalar is taken as a list of one).
  std::vector<std::string> strings(const YAML::Node& node, std::string_view what) const;
  const YAML::Node& sequence(const YAML::Node& node, std::string_view what) const;

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  YamlLimits limits_;
  std::string context_;
  YAML::Mark last_mark_;
};

}  // namespace llmtap
