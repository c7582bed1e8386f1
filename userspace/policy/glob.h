#pragma once
// Policy globs are the common ones (case-sensitive): see common/glob.h.

#include "common/glob.h"

namespace llmtap::policy {

using llmtap::any_glob_match;
using llmtap::glob_match;
using llmtap::glob_problem;

}  // namespace llmtap::policy
