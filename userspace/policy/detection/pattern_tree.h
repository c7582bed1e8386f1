#pragma once
// A detector's RE2 pattern read as a tree of what each part can match, byte by byte: what
// the scanner's facts about a pattern are computed from (the longest match, pattern_facts.h;
// the runs every match holds, pattern_runs.h).

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace llmtap::policy {

using ByteSet = std::bitset<256>;

// A `kBytes` leaf is one code point: one byte from `bytes`, or, when `wide`, possibly anything
// else too (a code point of several bytes, a byte the reader does not model), never inside a
// byte class. `width`: the most bytes it takes (4 for `.`, \W, a negated class; 3 for a
// caseless k or s, which RE2 also matches as U+212A and U+017F).
struct PatternNode {
  enum class Kind { kEmpty, kBytes, kConcat, kAlternation, kRepeat };
  Kind kind = Kind::kEmpty;
  ByteSet bytes;
  bool wide = false;
  uint32_t width = 1;
  size_t min_count = 0;              // kRepeat: fewest repetitions
  std::optional<size_t> max_count;   // kRepeat: most (none: unbounded)
  std::vector<PatternNode> kids;
};

// nullopt when the pattern cannot be read (malformed, nested over 200 groups deep).
std::optional<PatternNode> read_pattern_tree(std::string_view pattern);

}  // namespace llmtap::policy
