#pragma once
// How bad a finding is, and how sure a detector is: shared by rules, detectors and findings.

#include <optional>
#include <string_view>

namespace llmtap::policy {

// Ordered: a comparison says "at least as severe". Values are OCSF severity_id.
enum class Severity { kInfo = 1, kLow = 2, kMedium = 3, kHigh = 4, kCritical = 5 };

// Values are OCSF confidence_id.
enum class Confidence { kLow = 1, kMedium = 2, kHigh = 3 };

std::string_view severity_name(Severity s);  // "info" ... "critical"
std::optional<Severity> parse_severity(std::string_view text);
std::string_view confidence_name(Confidence c);  // "low", "medium", "high"
std::optional<Confidence> parse_confidence(std::string_view text);

}  // namespace llmtap::policy
