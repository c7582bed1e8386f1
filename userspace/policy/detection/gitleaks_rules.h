#pragma once
// Gitleaks rule files (`--secrets-rules FILE`): `[[rules]]` with id, description, regex,
// secretGroup, entropy, keywords and allowlists become DetectorSpecs of category secret, so
// a team's existing gitleaks config runs on LLM traffic. What a text scanner cannot honour
// (path-only rules, allowlists on paths or on the whole line) is reported, not ignored.

#include <string>
#include <vector>

#include "policy/detection/content_scanner.h"
#include "policy/detection/detector_spec.h"

namespace llmtap::policy {

struct GitleaksRules {
  std::vector<DetectorSpec> detectors;
  std::vector<DetectorProblem> problems;  // rules skipped or approximated, and why
};

// Throws YamlError ("file:line:column: ...") when the TOML does not parse or a rule is
// malformed.
GitleaksRules read_gitleaks_rules(const std::string& toml_text, const std::string& source);
GitleaksRules load_gitleaks_rules(const std::string& path);

}  // namespace llmtap::policy
