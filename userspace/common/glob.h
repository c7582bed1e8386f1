#pragma once
// Globs in policies and price tables: '*' (any run, also empty) and '?' (one character),
// nothing else special. Matching is linear-time (no backtracking blow-up on hostile globs).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap {

enum class GlobCase { kSensitive, kIgnoreAscii };

bool glob_match(std::string_view glob, std::string_view text, GlobCase c = GlobCase::kSensitive);
bool any_glob_match(const std::vector<std::string>& globs, std::string_view text);

// Why `glob` is not a usable glob ('[' and ']' are not supported, empty, too long), or nullopt.
std::optional<std::string> glob_problem(std::string_view glob);

}  // namespace llmtap
