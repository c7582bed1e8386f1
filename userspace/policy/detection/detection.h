#pragma once
// One thing a detector found in a piece of text. Never holds the secret itself: only where
// it is, a redacted form and a short hash for correlation.

#include <cstddef>
#include <string>

#include "policy/detection/detector_spec.h"

namespace llmtap::policy {

struct Detection {
  std::string detector_id;
  DetectorCategory category = DetectorCategory::kSecret;
  Severity severity = Severity::kHigh;
  Confidence confidence = Confidence::kHigh;
  size_t offset = 0;  // of the secret in the scanned text
  size_t length = 0;
  std::string redacted;     // e.g. "AKIA************MPLE"
  std::string fingerprint;  // first 12 hex digits of the secret's SHA-256
};

}  // namespace llmtap::policy
