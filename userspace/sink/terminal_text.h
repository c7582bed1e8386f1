#pragma once
// Text helpers for `llmtap watch`'s fixed-width columns. Everything shown comes from other
// processes and servers, so it is made safe for a terminal first: no control bytes (an escape
// sequence in a model name must not reach the screen), no invalid UTF-8.

#include <cstdint>
#include <string>
#include <string_view>

namespace llmtap::sink {

enum class Align : uint8_t { kLeft, kRight };

// Appends `text` in exactly `width` columns: made printable, cut with "…" when longer, padded
// with spaces. A column is counted a code point (wide CJK glyphs are not special-cased).
void append_cell(std::string& out, std::string_view text, size_t width, Align align);

// Columns `text` takes once made printable.
size_t display_width(std::string_view text);

// 512B, 1.2K, 34K, 5.6M, 7.8G (powers of 1024).
std::string human_bytes(uint64_t bytes);

// 850ms, 1.2s, 42s, 12m (from nanoseconds).
std::string human_duration(uint64_t ns);

// The colours the view uses; empty strings when colour is off.
struct Ansi {
  static constexpr std::string_view kRed = "\x1b[31m";
  static constexpr std::string_view kYellow = "\x1b[33m";
  static constexpr std::string_view kBold = "\x1b[1m";
  static constexpr std::string_view kReset = "\x1b[0m";
};

}  // namespace llmtap::sink
