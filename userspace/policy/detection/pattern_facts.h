#pragma once
// What the scanner needs to know about a detector's RE2 pattern before it can confirm
// candidates in small windows instead of reading the whole text: how long a match can be,
// and whether Hyperscan would read the pattern byte for byte as RE2 does.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace llmtap::policy {

// The most bytes one match of `pattern` (RE2 syntax, UTF-8 mode) can span: `.`, negated
// classes and \W \S \D count 4 (a code point), and under (?i) the letters k and s count 3
// (RE2 folds them to U+212A and U+017F). nullopt when the match is unbounded (`+`, `*`,
// `{n,}`) or the pattern cannot be read.
std::optional<size_t> max_match_bytes(const std::string& pattern);

// A pattern Hyperscan, fed bytes, can match wherever RE2 (UTF-8 mode) matches `pattern`, ending
// where RE2's match ends (it may match more). Hyperscan's own UTF-8 mode is not used: it is
// undefined on invalid UTF-8, which traffic can hold. What RE2 reads as one code point (`.`,
// a negated class, \W \S \D) also takes 1-4 high bytes; code points above 0x7F written in the
// pattern become their UTF-8 bytes. nullopt for what cannot be carried over (\p classes,
// non-ASCII class members, \Q...\E, \C, a caseless non-ASCII letter).
std::optional<std::string> hyperscan_byte_pattern(std::string_view pattern);

// Reads "\x{HHHH}" or "\xHH" at p[i] == 'x'; returns the code point (at most U+10FFFF) and
// moves i to the last character read. nullopt when malformed.
std::optional<unsigned long> read_hex_escape(std::string_view p, size_t& i);

// "\xF3\xA0" -> the two bytes; "\\" -> one backslash; anything else as written. For anchors
// given in YAML. nullopt on a malformed escape.
std::optional<std::string> decode_byte_escapes(std::string_view text);

}  // namespace llmtap::policy
