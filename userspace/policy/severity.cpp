#include "policy/severity.h"

#include <array>
#include <utility>

namespace llmtap::policy {
namespace {

constexpr std::array<std::pair<Severity, std::string_view>, 5> kSeverities = {{
    {Severity::kInfo, "info"},
    {Severity::kLow, "low"},
    {Severity::kMedium, "medium"},
    {Severity::kHigh, "high"},
    {Severity::kCritical, "critical"},
}};

constexpr std::array<std::pair<Confidence, std::string_view>, 3> kConfidences = {{
    {Confidence::kLow, "low"},
    {Confidence::kMedium, "medium"},
    {Confidence::kHigh, "high"},
}};

}  // namespace

std::string_view severity_name(Severity s) {
  for (const auto& [value, name] : kSeverities) {
    if (value == s) return name;
  }
  return "unknown";
}

std::optional<Severity> parse_severity(std::string_view text) {
  for (const auto& [value, name] : kSeverities) {
    if (name == text) return value;
  }
  return std::nullopt;
}

std::string_view confidence_name(Confidence c) {
  for (const auto& [value, name] : kConfidences) {
    if (value == c) return name;
  }
  return "unknown";
}

std::optional<Confidence> parse_confidence(std::string_view text) {
  for (const auto& [value, name] : kConfidences) {
    if (name == text) return value;
  }
  return std::nullopt;
}

}  // namespace llmtap::policy
