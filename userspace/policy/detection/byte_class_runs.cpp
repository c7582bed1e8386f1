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
constexpr size_t kParts = 8;
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

// masks[p] bit i: block[i] is in part p, for the 8 parts.
void part_masks_scalar(const unsigned char* block, uint64_t (&masks)[kParts]) {
  const NibbleTables& t = nibble_tables();
  for (uint64_t& m : masks) m = 0;
  for (size_t i = 0; i < 64; ++i) {
    for (uint32_t bits = t.bits[block[i]]; bits != 0; bits &= bits - 1) {
      masks[std::countr_zero(bits)] |= uint64_t{1} << i;
    }
  }
}

#if defined(LLMTAP_HAVE_SSSE3_PATH)
// A byte's part bits are one byte of a vector (the AND of its two nibbles' table entries):
// shifting the 16-bit lanes left by 7 - p brings bit p of every byte to the byte's top, where
// a movemask reads it (the lane's low byte's bits land in the high byte's low bits, never its
// top for these shifts). SSSE3: four vectors of 16 bytes; AVX2: two of 32.
__attribute__((target("ssse3"))) void part_masks_ssse3(const unsigned char* block,
                                                       uint64_t (&masks)[kParts]) {
  const NibbleTables& t = nibble_tables();
  const __m128i lo_table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.lo.data()));
  const __m128i hi_table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.hi.data()));
  const __m128i nibble = _mm_set1_epi8(0x0F);
  __m128i parts[4];
  for (size_t q = 0; q < 4; ++q) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * q));
    parts[q] = _mm_and_si128(_mm_shuffle_epi8(lo_table, _mm_and_si128(v, nibble)),
                             _mm_shuffle_epi8(hi_table, _mm_and_si128(_mm_srli_epi16(v, 4), nibble)));
  }
  for (unsigned p = 0; p < kParts; ++p) {
    const __m128i shift = _mm_cvtsi32_si128(static_cast<int>(7 - p));
    uint64_t m = 0;
    for (size_t q = 0; q < 4; ++q) {
      const auto bits = static_cast<uint16_t>(_mm_movemask_epi8(_mm_sll_epi16(parts[q], shift)));
      m |= static_cast<uint64_t>(bits) << (16 * q);
    }
    masks[p] = m;
  }
}

__attribute__((target("avx2"))) void part_masks_avx2(const unsigned char* block,
                                                     uint64_t (&masks)[kParts]) {
  const NibbleTables& t = nibble_tables();
  const __m256i lo_table =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t.lo.data())));
  const __m256i hi_table =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t.hi.data())));
  const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block));
  const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 32));
  auto classify = [&](__m256i v) __attribute__((target("avx2"))) {
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    return _mm256_and_si256(
        _mm256_shuffle_epi8(lo_table, _mm256_and_si256(v, nibble)),
        _mm256_shuffle_epi8(hi_table, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble)));
  };
  const __m256i low = classify(v0);
  const __m256i high = classify(v1);
  for (unsigned p = 0; p < kParts; ++p) {
    const __m128i shift = _mm_cvtsi32_si128(static_cast<int>(7 - p));
    masks[p] = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_sll_epi16(low, shift))) |
               static_cast<uint64_t>(static_cast<uint32_t>(
                   _mm256_movemask_epi8(_mm256_sll_epi16(high, shift))))
                   << 32;
  }
}

bool have_ssse3() {
  static const bool have = __builtin_cpu_supports("ssse3");
  return have;
}
bool have_avx2() {
  static const bool have = __builtin_cpu_supports("avx2");
  return have;
}
#endif

using PartMasks = void (*)(const unsigned char*, uint64_t (&)[kParts]);

PartMasks part_masks_for(ByteClassKernel kernel) {
  switch (kernel) {
#if defined(LLMTAP_HAVE_SSSE3_PATH)
    case ByteClassKernel::kAvx2:
      if (have_avx2()) return part_masks_avx2;
      break;
    case ByteClassKernel::kSsse3:
      if (have_ssse3()) return part_masks_ssse3;
      break;
#endif
    default:
      break;
  }
  return part_masks_scalar;
}


// A cheap necessary condition for has_run: a run of `length` bits holds a whole aligned field
// of g bits for the largest power of two g with 2g - 1 <= length; "some field of ~w is zero"
// is the classic borrow test, exact as a yes/no: ((~w - low) & w & high) != 0, with low the
// fields' lowest bits and high their highest. Most words of prose fail it at once. For runs
// of 1 or 2 the test is w != 0, which low = high = ~0 gives (~w + 1 is -w, and w & -w is w's
// lowest set bit); a word holds no run of 64 or more inside (low = high = 0: no).
struct BorrowTest {
  uint64_t low = 0;
  uint64_t high = 0;
};

constexpr BorrowTest borrow_test(uint32_t length) {
  if (length >= 64) return {};
  if (length >= 31) return {0x0001000100010001ULL, 0x8000800080008000ULL};
  if (length >= 15) return {0x0101010101010101ULL, 0x8080808080808080ULL};
  if (length >= 7) return {0x1111111111111111ULL, 0x8888888888888888ULL};
  if (length >= 3) return {0x5555555555555555ULL, 0xAAAAAAAAAAAAAAAAULL};
  return {~0ULL, ~0ULL};
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

std::vector<ByteClassKernel> byte_class_kernels() {
  std::vector<ByteClassKernel> kernels{ByteClassKernel::kScalar};
#if defined(LLMTAP_HAVE_SSSE3_PATH)
  if (have_ssse3()) kernels.push_back(ByteClassKernel::kSsse3);
  if (have_avx2()) kernels.push_back(ByteClassKernel::kAvx2);
#endif
  return kernels;
}

ClassRuns class_runs_reached(std::string_view text, const RunThresholds& thresholds) {
  static const ByteClassKernel best = byte_class_kernels().back();
  return class_runs_reached(text, thresholds, best);
}

ClassRuns class_runs_reached(std::string_view text, const RunThresholds& thresholds,
                             ByteClassKernel kernel) {
  const PartMasks part_masks = part_masks_for(kernel);
  const NibbleTables& tables = nibble_tables();
  // Per class: the next threshold to meet and its borrow test (zero when the threshold cannot
  // be inside one word); the run reaching the block's end.
  struct Follow {
    uint32_t need = 0;
    uint32_t current = 0;
    uint64_t borrow_low = 0;
    uint64_t borrow_high = 0;
    size_t reached = 0;  // thresholds met
    uint8_t part_a = 0;
    uint8_t part_b = 0;
  };
  std::array<Follow, kGateClassCount> follow{};
  auto aim = [](Follow& f, uint32_t need) {
    f.need = need;
    const BorrowTest test = borrow_test(need);
    f.borrow_low = test.low;
    f.borrow_high = test.high;
  };
  uint32_t open = 0;  // classes with thresholds still to meet
  for (size_t c = 0; c < kGateClassCount; ++c) {
    if (thresholds[c].empty()) continue;
    open |= 1u << c;
    aim(follow[c], thresholds[c][0]);
    const uint32_t parts = tables.parts_of_class[c];
    follow[c].part_a = static_cast<uint8_t>(std::countr_zero(parts));
    follow[c].part_b = static_cast<uint8_t>(31 - std::countl_zero(parts));
  }
  // A byte outside every part (0x00) pads the last block.
  alignas(32) unsigned char tail[64];
  for (size_t at = 0; at < text.size() && open != 0; at += 64) {
    const size_t n = std::min<size_t>(64, text.size() - at);
    const auto* block = reinterpret_cast<const unsigned char*>(text.data() + at);
    if (n < 64) {
      std::memcpy(tail, block, n);
      std::memset(tail + n, 0, 64 - n);
      block = tail;
    }
    uint64_t parts[kParts];
    part_masks(block, parts);
    for (uint32_t rest = open; rest != 0; rest &= rest - 1) {
      const auto c = static_cast<size_t>(std::countr_zero(rest));
      Follow& f = follow[c];
      const uint64_t w = parts[f.part_a] | parts[f.part_b];
      uint32_t longest;  // a run known to be in the text so far
      if (w == ~uint64_t{0}) {
        f.current += 64;
        longest = f.current;
      } else {
        longest = f.current + static_cast<uint32_t>(std::countr_one(w));
        f.current = static_cast<uint32_t>(std::countl_one(w));
        longest = std::max(longest, f.current);
      }
      if (longest < f.need) {
        // The next threshold is neither met across words nor inside this one: none is.
        if (((~w - f.borrow_low) & w & f.borrow_high) == 0 || !has_run(w, f.need)) continue;
      }
      // Thresholds met: count them, across words or inside this one.
      const std::vector<uint32_t>& t = thresholds[c];
      size_t& r = f.reached;
      while (r < t.size() && longest >= t[r]) ++r;
      while (r < t.size() && t[r] < 64 && has_run(w, t[r])) ++r;
      if (r == t.size()) {
        open &= ~(1u << c);
      } else {
        aim(f, t[r]);
      }
    }
  }
  ClassRuns out{};
  for (size_t c = 0; c < kGateClassCount; ++c) {
    out[c] = follow[c].reached > 0 ? thresholds[c][follow[c].reached - 1] : 0;
  }
  return out;
}

}  // namespace llmtap::policy
