#pragma once
// Policy files (docs/policy.md): the built-in pack (policies/default-policy.yaml, compiled
// in) and `--policy FILE`s, later ones adding rules or replacing rules of the same id.

#include <string>
#include <vector>

#include "policy/policy.h"

namespace llmtap::policy {

// Adds the rules, detectors and disabled ids of one file to `into`. Throws YamlError naming
// file:line:column and the rule.
void read_policy_file(const std::string& yaml_text, const std::string& source, Policy& into);

// The built-in pack alone.
Policy builtin_policy();

// The built-in pack, then each file in order. Throws YamlError (a file that cannot be read
// too).
Policy load_policy(const std::vector<std::string>& files);

}  // namespace llmtap::policy
