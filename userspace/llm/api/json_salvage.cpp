#include "llm/api/json_salvage.h"

#include <simdjson.h>

#include <bit>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "llm/api/utf8_text.h"

namespace llmtap::llm {
namespace {

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The value of a "\uXXXX" escape starting at text[i] (the backslash), or -1.
int unicode_escape_at(std::string_view text, size_t i) {
  if (i + 6 > text.size() || text[i] != '\\' || text[i + 1] != 'u') return -1;
  int value = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    if (!is_hex(text[k])) return -1;
    const char c = text[k];
    value = value * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return value;
}

// The first '"' or '\\' of `text` at or after `from` (text.size() when none): the bytes inside a
// string that matter here. A prompt is mostly string, so this runs 16 bytes at a time.
size_t quote_or_backslash(std::string_view text, size_t from) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  for (; from + 16 <= text.size(); from += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + from));
    const auto hits = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash))));
    if (hits != 0) return from + static_cast<size_t>(std::countr_zero(hits));
  }
#endif
  for (; from < text.size(); ++from) {
    if (text[from] == '"' || text[from] == '\\') return from;
  }
  return text.size();
}

bool is_high_surrogate(int v) { return v >= 0xD800 && v <= 0xDBFF; }
bool is_low_surrogate(int v) { return v >= 0xDC00 && v <= 0xDFFF; }

// Replaces unpaired surrogate escapes with \ufffd (same length, so in place) and, when the
// text ends inside a container, cuts it after its last complete value and closes what is open.
struct StructureRepair {
  bool surrogates_fixed = false;
  bool closed = false;
};

StructureRepair repair_structure(std::string& text) {
  StructureRepair result;
  std::vector<char> open;  // the closers still owed, innermost last
  // The last place where the text so far, plus closers, is a complete document.
  size_t cut = std::string::npos;
  size_t cut_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (in_string) {
      i = quote_or_backslash(text, i);
      if (i == text.size()) break;
    }
    const char c = text[i];
    if (in_string) {
      if (c == '"') {
        in_string = false;
      } else if (c == '\\') {
        const int value = unicode_escape_at(text, i);
        if (value >= 0 && (is_high_surrogate(value) || is_low_surrogate(value))) {
          const int next = is_high_surrogate(value) ? unicode_escape_at(text, i + 6) : -1;
          if (next >= 0 && is_low_surrogate(next)) {
            i += 11;  // a proper pair
            continue;
          }
          text.replace(i, 6, "\\ufffd");
          result.surrogates_fixed = true;
        }
        ++i;  // skip the escaped character (the rest of \uXXXX is plain hex)
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        open.push_back(c == '{' ? '}' : ']');
        cut = i + 1;
        cut_depth = open.size();
        break;
      case '}':
      case ']':
        if (open.empty() || open.back() != c) return result;  // not truncation: leave it
        open.pop_back();
        cut = i + 1;
        cut_depth = open.size();
        break;
      case ',':
        cut = i;
        cut_depth = open.size();
        break;
      default:
        break;
    }
  }
  if ((open.empty() && !in_string) || cut == std::string::npos) return result;
  // Between the cut and the end there were only pushes, so open[0, cut_depth) is still the
  // stack as it was at the cut.
  text.resize(cut);
  for (size_t d = cut_depth; d > 0; --d) text.push_back(open[d - 1]);
  result.closed = true;
  return result;
}

}  // namespace

std::optional<SalvagedJson> salvage_json(std::string_view text) {
  SalvagedJson out;
  if (simdjson::validate_utf8(text.data(), text.size())) {
    out.text.assign(text);
  } else {
    out.text = to_valid_utf8(text);
    out.repairs = "invalid UTF-8 replaced";
  }
  const StructureRepair structure = repair_structure(out.text);
  const auto note = [&](std::string_view what) {
    if (!out.repairs.empty()) out.repairs += "; ";
    out.repairs += what;
  };
  if (structure.surrogates_fixed) note("unpaired surrogates replaced");
  if (structure.closed) note("cut short, read up to its last complete value");
  if (out.repairs.empty()) return std::nullopt;
  return out;
}

}  // namespace llmtap::llm
