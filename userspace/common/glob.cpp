#include "common/glob.h"

namespace llmtap {
namespace {

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool glob_match(std::string_view glob, std::string_view text, GlobCase c) {
  const bool fold = c == GlobCase::kIgnoreAscii;
  // Greedy with one backtrack point (the last '*'): O(len(glob) * len(text)) at worst.
  size_t g = 0;
  size_t t = 0;
  size_t star = std::string_view::npos;
  size_t resume = 0;
  while (t < text.size()) {
    if (g < glob.size() && (glob[g] == '?' || glob[g] == text[t] ||
                            (fold && ascii_lower(glob[g]) == ascii_lower(text[t])))) {
      ++g;
      ++t;
    } else if (g < glob.size() && glob[g] == '*') {
      star = g++;
      resume = t;
    } else if (star != std::string_view::npos) {
      g = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

bool any_glob_match(const std::vector<std::string>& globs, std::string_view text) {
  for (const auto& g : globs) {
    if (glob_match(g, text)) return true;
  }
  return false;
}

std::optional<std::string> glob_problem(std::string_view glob) {
  if (glob.empty()) return "an empty pattern";
  if (glob.size() > 256) return "longer than 256 characters";
  if (glob.find_first_of("[]") != std::string_view::npos) {
    return "'" + std::string(glob) +
           "' uses [ or ], which globs here do not support (only * and ?)";
  }
  return std::nullopt;
}

}  // namespace llmtap
