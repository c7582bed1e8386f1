#include "policy/detection/byte_class_runs.h"

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LLMTAP_HAVE_SSSE3_PATH 1
#endif

namespace llmtap::policy {
namespace {

ByteSet bytes_of(std::string_view members) {
  ByteSet s;
  for (const char c : members) s.set(static_cast<unsigned char>(c));
  return s;
}

constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kUpper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view kLower = "abcdefghijklmnopqrstuvwxyz";

// Index of each class in gate_classes().
enum ClassIndex : size_t { kDigit, kHexColon, kNumber, kDottedDigits, kUpperDigitSpace, kToken, kBase64 };

std::array<ByteSet, kGateClassCount> make_classes() {
  const std::string digits(kDigits);
  const std::string alnum = std::string(kUpper) + std::string(kLower) + digits;
  std::array<ByteSet, kGateClassCount> c;
  c[kDigit] = bytes_of(digits);
  c[kHexColon] = bytes_of(digits + "abcdefABCDEF:");
  c[kNumber] = bytes_of(digits + " ().+-/");
  c[kDottedDigits] = bytes_of(digits + ".");
  c[kUpperDigitSpace] = bytes_of(std::string(kUpper) + digits + " ");
  c[kToken] = bytes_of(alnum + "_-");
  c[kBase64] = bytes_of(alnum + "+/");
  return c;
}

// The text side classifies a byte by its nibbles: part p holds byte b when bit p is set in
// both lo[b & 15] and hi[b >> 4], so a part is a rectangle of the byte table. A class is one
// part or the union of two: [A-Za-z0-9_-] as the rectangle 0x30-0x7F plus the one byte '-'.
// Eight parts, one byte of bits.
struct NibbleTables {
  std::array<uint8_t, 16> lo{};
  std::array<uint8_t, 16> hi{};
  std::array<uint8_t, kGateClassCount> parts_of_class{};
  std::array<uint8_t, 256> bits{};  // the same classification, byte by byte
  std::array<ByteSet, kGateClassCount> classes;

  void add_part(unsigned part, const ByteSet& members) {
    for (unsigned b = 0; b < 256; ++b) {
      if (!members.test(b)) continue;
      lo[b & 15] |= static_cast<uint8_t>(1u << part);
      hi[b >> 4] |= static_cast<uint8_t>(1u << part);
    }
  }

  NibbleTables() {
    const auto& exact = gate_classes();
    const std::string digits(kDigits);
    // Parts 0-4: one class each, its own rectangle closure.
    for (unsigned c = kDigit; c <= kUpperDigitSpace; ++c) {
      add_part(c, exact[c]);
      parts_of_class[c] = static_cast<uint8_t>(1u << c);
    }
    // Parts 5-7: the rows 0x30-0x7F (letters, digits, '_' and what shares their rows), '-',
    // and '+' with '/'.
    add_part(5, bytes_of(std::string(kUpper) + std::string(kLower) + digits + "_"));
    add_part(6, bytes_of("-"));
    add_part(7, bytes_of("+/"));
    parts_of_class[kToken] = static_cast<uint8_t>((1u << 5) | (1u << 6));
    parts_of_class[kBase64] = static_cast<uint8_t>((1u << 5) | (1u << 7));
    for (unsigned b = 0; b < 256; ++b) bits[b] = lo[b & 15] & hi[b >> 4];
    for (size_t c = 0; c < kGateClassCount; ++c) {
      for (unsigned b = 0; b < 256; ++b) {
        if ((bits[b] & parts_of_class[c]) != 0) classes[c].set(b);
      }
    }
  }
};

const NibbleTables& nibble_tables() {
  static const NibbleTables tables;
  return tables;
}

// masks[c] bit i: block[i] is in (text) class c, for the classes in `wanted`.
void class_masks_scalar(const unsigned char* block, uint32_t wanted,
                        uint64_t (&masks)[kGateClassCount]) {
  const NibbleTables& t = nibble_tables();
  uint8_t parts[64];
  for (size_t i = 0; i < 64; ++i) parts[i] = t.bits[block[i]];
  for (uint32_t rest = wanted; rest != 0; rest &= rest - 1) {
    const auto c = static_cast<size_t>(std::countr_zero(rest));
    uint64_t m = 0;
    for (size_t i = 0; i < 64; ++i) {
      m |= static_cast<uint64_t>((parts[i] & t.parts_of_class[c]) != 0) << i;
    }
    masks[c] = m;
  }
}

#if defined(LLMTAP_HAVE_SSSE3_PATH)
__attribute__((target("ssse3"))) void class_masks_ssse3(const unsigned char* block,
                                                        uint32_t wanted,
                                                        uint64_t (&masks)[kGateClassCount]) {
  const NibbleTables& t = nibble_tables();
  const __m128i lo_table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.lo.data()));
  const __m128i hi_table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.hi.data()));
  const __m128i low_nibble = _mm_set1_epi8(0x0F);
  const __m128i zero = _mm_setzero_si128();
  __m128i parts[4];
  for (size_t q = 0; q < 4; ++q) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * q));
    const __m128i lo = _mm_shuffle_epi8(lo_table, _mm_and_si128(v, low_nibble));
    const __m128i hi =
        _mm_shuffle_epi8(hi_table, _mm_and_si128(_mm_srli_epi16(v, 4), low_nibble));
    parts[q] = _mm_and_si128(lo, hi);
  }
  for (uint32_t rest = wanted; rest != 0; rest &= rest - 1) {
    const auto c = static_cast<size_t>(std::countr_zero(rest));
    const __m128i select = _mm_set1_epi8(static_cast<char>(t.parts_of_class[c]));
    uint64_t m = 0;
    for (size_t q = 0; q < 4; ++q) {
      const __m128i outside = _mm_cmpeq_epi8(_mm_and_si128(parts[q], select), zero);
      m |= static_cast<uint64_t>(static_cast<uint16_t>(~_mm_movemask_epi8(outside))) << (16 * q);
    }
    masks[c] = m;
  }
}

bool have_ssse3() {
  static const bool have = __builtin_cpu_supports("ssse3");
  return have;
}
#endif

void class_masks(const unsigned char* block, uint32_t wanted,
                 uint64_t (&masks)[kGateClassCount]) {
#if defined(LLMTAP_HAVE_SSSE3_PATH)
  if (have_ssse3()) {
    class_masks_ssse3(block, wanted, masks);
    return;
  }
#endif
  class_masks_scalar(block, wanted, masks);
}

// Cheap necessary condition for has_run: a run of `length` bits holds a whole aligned field
// of g bits for the largest power of two g with 2g - 1 <= length; "some field of ~w is zero"
// is the classic borrow test, exact as a yes/no. Most words of prose fail it at once.
bool may_have_run(uint64_t w, uint32_t length) {
  const uint64_t v = ~w;
  if (length >= 31) return ((v - 0x0001000100010001ULL) & w & 0x8000800080008000ULL) != 0;
  if (length >= 15) return ((v - 0x0101010101010101ULL) & w & 0x8080808080808080ULL) != 0;
  if (length >= 7) return ((v - 0x1111111111111111ULL) & w & 0x8888888888888888ULL) != 0;
  if (length >= 3) return ((v - 0x5555555555555555ULL) & w & 0xAAAAAAAAAAAAAAAAULL) != 0;
  return w != 0;
}

// Whether w holds `length` (1-64) set bits in a row: after the loop, bit i of y is set when
// bits i .. i+l-1 of w are, l doubling up to `length`.
bool has_run(uint64_t w, uint32_t length) {
  uint64_t y = w;
  for (uint32_t l = 1; l < length && y != 0;) {
    const uint32_t step = std::min(l, length - l);
    y &= y >> step;
    l += step;
  }
  return y != 0;
}

}  // namespace

const std::array<ByteSet, kGateClassCount>& gate_classes() {
  static const std::array<ByteSet, kGateClassCount> classes = make_classes();
  return classes;
}

const std::array<ByteSet, kGateClassCount>& text_classes() { return nibble_tables().classes; }

ClassRuns class_runs_reached(std::string_view text, const RunThresholds& thresholds) {
  std::array<size_t, kGateClassCount> reached{};    // thresholds met, per class
  std::array<uint32_t, kGateClassCount> current{};  // the run reaching the block's end
  uint32_t open = 0;  // classes with thresholds still to meet
  for (size_t c = 0; c < kGateClassCount; ++c) {
    if (!thresholds[c].empty()) open |= 1u << c;
  }
  // A byte outside every part (0x00) pads the last block.
  alignas(16) unsigned char tail[64];
  for (size_t at = 0; at < text.size() && open != 0; at += 64) {
    const size_t n = std::min<size_t>(64, text.size() - at);
    const auto* block = reinterpret_cast<const unsigned char*>(text.data() + at);
    if (n < 64) {
      std::memcpy(tail, block, n);
      std::memset(tail + n, 0, 64 - n);
      block = tail;
    }
    uint64_t masks[kGateClassCount];
    class_masks(block, open, masks);
    for (uint32_t rest = open; rest != 0; rest &= rest - 1) {
      const auto c = static_cast<size_t>(std::countr_zero(rest));
      const std::vector<uint32_t>& t = thresholds[c];
      size_t& r = reached[c];
      const uint64_t w = masks[c];
      uint32_t longest;  // a run known to be in the text so far
      if (w == ~uint64_t{0}) {
        current[c] += 64;
        longest = current[c];
      } else {
        longest = current[c] + static_cast<uint32_t>(std::countr_one(w));
        current[c] = static_cast<uint32_t>(std::countl_one(w));
        longest = std::max(longest, current[c]);
      }
      while (r < t.size() && longest >= t[r]) ++r;
      // Runs inside the word.
      while (r < t.size() && t[r] < 64 && may_have_run(w, t[r]) && has_run(w, t[r])) ++r;
      if (r == t.size()) open &= ~(1u << c);
    }
  }
  ClassRuns out{};
  for (size_t c = 0; c < kGateClassCount; ++c) {
    out[c] = reached[c] > 0 ? thresholds[c][reached[c] - 1] : 0;
  }
  return out;
}

}  // namespace llmtap::policy
