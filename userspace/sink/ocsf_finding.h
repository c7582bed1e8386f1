#pragma once
// The `finding` events for SIEMs: what the policy engine found about one LLM call, as an OCSF
// finding with the `host` and `security_control` profiles. Data exfiltration is a Data
// Security Finding (class 2006); model governance, volume and prompt attacks are Detection
// Findings (class 2004). Field choices and their sources are in docs/events.md.

#include <string>

#include "policy/finding.h"
#include "sink/ocsf_objects.h"

namespace llmtap::sink {

inline constexpr uint64_t kDetectionFindingClassUid = 2004;
inline constexpr uint64_t kDataSecurityFindingClassUid = 2006;

// Appends the event for `finding` and a newline to `out`. Absent values are left out, never
// null. Only the redacted form and the fingerprint of a detected secret are written (the
// Finding holds nothing more).
void append_ocsf_finding(const policy::Finding& finding, const OcsfContext& context,
                         std::string& out);

}  // namespace llmtap::sink
