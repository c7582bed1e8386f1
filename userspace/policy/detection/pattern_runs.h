#pragma once
// What every match of a detector's RE2 pattern must contain, as runs of bytes of a class:
// `[2-6][0-9]{3}[ -]?[0-9]{4}...` cannot match a text without 14 bytes in a row from
// [0-9 -]. A text whose longest run of that class is shorter holds no match, and the
// scanner skips the pattern's Hyperscan pass (the costly gate of detectors that have no
// literal; see byte_class_runs.h for the text side).
//
// The figures are guarantees: wherever the pattern cannot be read exactly (negated classes,
// `.`, Unicode classes, caseless k and s, non-ASCII), a part counts as outside every class,
// which can only lower them. 0 means "nothing guaranteed".

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "policy/detection/pattern_tree.h"

namespace llmtap::policy {

// For each class, the longest run of consecutive bytes of that class every match of `pattern`
// contains (saturated at 65535). nullopt when the pattern cannot be read (nothing guaranteed).
template <size_t N>
std::optional<std::array<uint16_t, N>> guaranteed_runs(std::string_view pattern,
                                                       const std::array<ByteSet, N>& classes);

// Non-template core: `classes` of `count` entries, `out` of `count` entries.
bool guaranteed_runs(std::string_view pattern, const ByteSet* classes, size_t count,
                     uint16_t* out);

template <size_t N>
std::optional<std::array<uint16_t, N>> guaranteed_runs(std::string_view pattern,
                                                       const std::array<ByteSet, N>& classes) {
  std::array<uint16_t, N> out{};
  if (!guaranteed_runs(pattern, classes.data(), N, out.data())) return std::nullopt;
  return out;
}

}  // namespace llmtap::policy
