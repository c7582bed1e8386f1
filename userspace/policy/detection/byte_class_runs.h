#pragma once
// The text side of the scanner's run gate (pattern_runs.h is the pattern side): which runs of
// consecutive bytes of each gate class a text holds, in one pass: two nibble-table lookups per
// 32 bytes (AVX2; per 16 with SSSE3; a byte table elsewhere) and a shift and a movemask per
// class give each 64-byte block's class masks; the seven classes then move side by side as
// lanes (two AVX2 vectors) through bit planes of runs of 1, 2, 4 ... 32 bytes carried from
// block to block, with no branch per block but "did a class meet the run it waits for".

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "policy/detection/pattern_runs.h"

namespace llmtap::policy {

inline constexpr size_t kGateClassCount = 7;
using ClassRuns = std::array<uint32_t, kGateClassCount>;

// The classes, chosen for the shapes of detectors that have no literal: digits; hex digits
// with ':' (IPv6, hex tokens); digits with the punctuation of numbers and phone numbers
// (" ().+-/"); digits with '.' (IPv4); uppercase letters, digits and space (IBAN); token
// characters [A-Za-z0-9_-]; base64 [A-Za-z0-9+/]. Patterns are read against these.
const std::array<ByteSet, kGateClassCount>& gate_classes();

// What the text side counts as each class: a superset of gate_classes() (a byte is classified
// by its two nibbles, so a class takes in whole rectangles of the byte table: [0-9a-f] reads
// as [0-9a-j`]...). A superset only lengthens a text's runs: the gate may pass a pattern
// database over a text with no match, never skip one with a match.
const std::array<ByteSet, kGateClassCount>& text_classes();

// Per class, the run lengths worth knowing about (the runs detectors need), ascending and
// distinct, each > 0.
using RunThresholds = std::array<std::vector<uint32_t>, kGateClassCount>;

// For each class c, the largest of thresholds[c] that `text` has a run of (text_classes())
// at least that long, 0 when none: "is there a run of 14 of [0-9 ().+-/]?" for every threshold
// at once. A class stops being followed once its largest threshold is reached.
ClassRuns class_runs_reached(std::string_view text, const RunThresholds& thresholds);

// The ways of classifying the text's bytes: the same answers, chosen at run time by what the
// CPU has. Tests run each this machine has against the others.
enum class ByteClassKernel { kScalar, kSsse3, kAvx2 };
std::vector<ByteClassKernel> byte_class_kernels();  // this CPU's, slowest first
ClassRuns class_runs_reached(std::string_view text, const RunThresholds& thresholds,
                             ByteClassKernel kernel);

}  // namespace llmtap::policy
