#pragma once
// `llmtap policy validate FILE...` and `llmtap policy show`.

#include "cli/policy_source.h"

namespace llmtap::cli {

// Every problem as "file:line:column: rule <id>: what"; 1 if any is an error, else 0.
int validate_policies(const PolicyFiles& files);
// The effective policy (built-in pack plus files) on stdout; 1 if it does not load.
int show_policy(const PolicyFiles& files);

}  // namespace llmtap::cli
