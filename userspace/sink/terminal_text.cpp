#include "sink/terminal_text.h"

#include <fmt/format.h>

#include "common/utf8.h"

namespace llmtap::sink {
namespace {

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026, one column

// Calls emit(piece) for each printable code point of `text`; anything else becomes "?".
template <typename Emit>
void for_each_printable(std::string_view text, Emit emit) {
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<uint8_t>(text[i]);
    const size_t len = common::utf8_sequence_length(text, i);
    const bool c1_control =
        len == 2 && c == 0xC2 && static_cast<uint8_t>(text[i + 1]) < 0xA0;  // U+0080..U+009F
    if (len == 0 || (len == 1 && (c < 0x20 || c == 0x7F)) || c1_control) {
      emit(std::string_view("?"));
      i += len == 0 ? 1 : len;
      continue;
    }
    emit(text.substr(i, len));
    i += len;
  }
}

}  // namespace

size_t display_width(std::string_view text) {
  size_t columns = 0;
  for_each_printable(text, [&](std::string_view) { ++columns; });
  return columns;
}

void append_cell(std::string& out, std::string_view text, size_t width, Align align) {
  if (width == 0) return;
  const size_t columns = display_width(text);
  const size_t shown = columns > width ? width - 1 : columns;  // room for the ellipsis
  const size_t pad = columns > width ? 0 : width - columns;
  if (align == Align::kRight) out.append(pad, ' ');
  size_t emitted = 0;
  for_each_printable(text, [&](std::string_view piece) {
    if (emitted++ < shown) out.append(piece);
  });
  if (columns > width) out.append(kEllipsis);
  if (align == Align::kLeft) out.append(pad, ' ');
}

std::string human_bytes(uint64_t bytes) {
  static constexpr char kUnits[] = {'K', 'M', 'G', 'T', 'P'};
  if (bytes < 1024) return fmt::format("{}B", bytes);
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < sizeof kUnits) {
    value /= 1024;
    ++unit;
  }
  // One decimal while it fits the column; "1023.9K" would not.
  if (value < 9.95) return fmt::format("{:.1f}{}", value, kUnits[unit]);
  return fmt::format("{:.0f}{}", value, kUnits[unit]);
}

std::string human_duration(uint64_t ns) {
  const double ms = static_cast<double>(ns) / 1e6;
  if (ms < 999.5) return fmt::format("{:.0f}ms", ms);
  const double s = ms / 1000;
  if (s < 9.95) return fmt::format("{:.1f}s", s);
  if (s < 599.5) return fmt::format("{:.0f}s", s);
  return fmt::format("{:.0f}m", s / 60);
}

}  // namespace llmtap::sink
