#include "llm/catalog/host_pattern.h"

#include <algorithm>

namespace llmtap::llm {
namespace {

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
         c == '*' || c == '[' || c == ']' || c == ':';
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

bool HostPattern::Label::matches(std::string_view label) const {
  if (!wildcard) return label == prefix;
  return label.size() > prefix.size() + suffix.size() && label.starts_with(prefix) &&
         label.ends_with(suffix);
}

std::optional<HostPattern> HostPattern::compile(std::string_view text, std::string& error) {
  if (text.empty()) {
    error = "empty host pattern";
    return std::nullopt;
  }
  if (text.size() > kMaxPatternBytes) {
    error = "host pattern longer than " + std::to_string(kMaxPatternBytes) + " bytes";
    return std::nullopt;
  }
  const std::string lower = lowercase(text);
  if (!std::all_of(lower.begin(), lower.end(), is_host_char)) {
    error = "host pattern '" + std::string(text) + "' has a character not allowed in a host name";
    return std::nullopt;
  }
  HostPattern pattern;
  std::string_view name = lower;
  // The port follows the last ':' outside an IPv6 literal's brackets.
  const size_t close = name.rfind(']');
  const size_t colon = name.rfind(':');
  if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
    if (close == std::string_view::npos && name.find(':') != colon) {
      error = "host pattern '" + std::string(text) + "': put an IPv6 address in brackets";
      return std::nullopt;
    }
    pattern.port_ = parse_port(name.substr(colon + 1));
    if (pattern.port_ < 0) {
      error = "host pattern '" + std::string(text) + "' has a bad port";
      return std::nullopt;
    }
    name = name.substr(0, colon);
  }
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) {
    error = "host pattern '" + std::string(text) + "' has no host";
    return std::nullopt;
  }
  if (name == "*") {
    pattern.any_host_ = true;
    return pattern;
  }
  if (name.front() == '[') {
    if (name.back() != ']' || name.find('*') != std::string_view::npos) {
      error = "host pattern '" + std::string(text) + "': bad IPv6 literal";
      return std::nullopt;
    }
    pattern.labels_.push_back({std::string(name), "", false});
    pattern.exact_ = name;
    return pattern;
  }
  const std::string full_name(name);
  if (name.starts_with("*.")) {
    pattern.leading_labels_ = true;
    name.remove_prefix(2);
  }
  while (true) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (label.empty() || label.find_first_of("[]") != std::string_view::npos) {
      error = "host pattern '" + std::string(text) + "' has an empty or bad label";
      return std::nullopt;
    }
    const size_t star = label.find('*');
    if (star == std::string_view::npos) {
      pattern.labels_.push_back({std::string(label), "", false});
    } else if (label.find('*', star + 1) != std::string_view::npos) {
      error = "host pattern '" + std::string(text) + "': at most one '*' in a label";
      return std::nullopt;
    } else {
      pattern.labels_.push_back(
          {std::string(label.substr(0, star)), std::string(label.substr(star + 1)), true});
    }
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  const bool literal = std::none_of(pattern.labels_.begin(), pattern.labels_.end(),
                                    [](const Label& l) { return l.wildcard; });
  if (literal && !pattern.leading_labels_) pattern.exact_ = full_name;
  pattern.literal_suffix_ = full_name.substr(full_name.rfind('*') + 1);
  return pattern;
}

bool HostPattern::matches(const RequestHost& host) const {
  if (port_ >= 0 && host.port() != port_) return false;
  if (any_host_) return true;
  std::string_view name = host.name();
  if (name.empty() || !name.ends_with(literal_suffix_)) return false;
  // Walk labels from the right: the pattern's right-most label against the host's.
  for (auto it = labels_.rbegin(); it != labels_.rend(); ++it) {
    if (name.empty()) return false;
    const size_t dot = name.rfind('.');
    const std::string_view label = dot == std::string_view::npos ? name : name.substr(dot + 1);
    if (!it->matches(label)) return false;
    name = dot == std::string_view::npos ? std::string_view() : name.substr(0, dot);
  }
  // "*.suffix" needs at least one more label; a plain pattern needs none left.
  return leading_labels_ ? !name.empty() : name.empty();
}

std::optional<std::string_view> HostPattern::exact_name() const {
  if (exact_.empty()) return std::nullopt;
  return exact_;
}

}  // namespace llmtap::llm
