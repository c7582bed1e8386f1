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
  std::array<uint8_t, kGateClassCount> part_a{}, part_b{};  // a class's parts (the same for one)
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
    for (size_t c = 0; c < kGateClassCount; ++c) {
      part_a[c] = static_cast<uint8_t>(std::countr_zero(parts_of_class[c]));
      part_b[c] = static_cast<uint8_t>(std::bit_width(parts_of_class[c]) - 1);
    }
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

// A block's parts: masks[p] bit i says block[i] is in part p.
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
// top for these shifts).
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

bool have_ssse3() {
  static const bool have = __builtin_cpu_supports("ssse3");
  return have;
}
bool have_avx2() {
  static const bool have = __builtin_cpu_supports("avx2");
  return have;
}
#endif

// Runs are followed as bit planes over the whole text, eight lanes (the seven classes and one
// spare) side by side. Bit i of level j of a lane says whether the 2^j bytes ending at byte i
// of the block are all of the lane's class; level j+1 is level j AND level j shifted by 2^j,
// the bits shifted in taken from the previous block's level j, so runs are seen across blocks
// without a counter. A run of n bytes ends at byte i when the level of p holds i and i - d,
// for p a power of two with n/2 <= p <= n and d = n - p; p = 32 serves up to 64 bytes. The
// same steps run for every lane and every block, with no branch but "did any lane meet its
// run", rare once the short runs are met. Runs over 64 bytes are counted on the plane of
// 64-byte runs (follow_beyond).
constexpr size_t kLanes = 8;
constexpr unsigned kLevels = 6;  // runs of 1, 2, 4, ..., 32 bytes
constexpr unsigned kTopLevel = kLevels - 1;
constexpr uint64_t kAll = ~uint64_t{0};

struct alignas(32) LaneWords {
  uint64_t v[kLanes] = {};
};

struct Planes {
  LaneWords level[kLevels];
};

// A run of n bytes (1-64; anything else is taken as the nearest) as its level and d.
struct RunShape {
  uint8_t level = 0;
  uint8_t d = 0;
};
constexpr std::array<RunShape, 65> kRunShapes = [] {
  std::array<RunShape, 65> shapes{};
  for (uint32_t n = 1; n <= 64; ++n) {
    const uint32_t p = std::bit_ceil((n + 1) / 2);  // n/2 <= p <= n
    shapes[n] = {static_cast<uint8_t>(std::countr_zero(p)), static_cast<uint8_t>(n - p)};
  }
  shapes[0] = shapes[1];
  return shapes;
}();
RunShape shape_of(uint32_t n) { return kRunShapes[std::min<uint32_t>(n, 64)]; }

// What each lane waits for, in the forms the scalar and the vector steps read.
struct LaneNeeds {
  LaneWords active;                // ~0: the lane waits for a run of at most 64 bytes
  LaneWords shift;                 // d
  LaneWords level;                 // the level of p
  unsigned depth[2] = {0, 0};  // levels built for lanes 0-3 and 4-7

  void wait_for(size_t lane, uint32_t n) {
    const RunShape run = shape_of(n);
    active.v[lane] = kAll;
    shift.v[lane] = run.d;
    level.v[lane] = run.level;
  }
  void stop(size_t lane) { active.v[lane] = 0; }
};

uint64_t run_end_bits(uint64_t y, uint64_t prev_y, uint32_t d) {
  return y & ((y << d) | (d == 0 ? 0 : prev_y >> (64 - d)));
}

// Whether a run of n (1-64) bytes of the lane's class ends in this block.
bool run_ends_in_block(const Planes& cur, const Planes& prev, size_t lane, uint32_t n) {
  const auto [j, d] = shape_of(n);
  return run_end_bits(cur.level[j].v[lane], prev.level[j].v[lane], d) != 0;
}

// A block's class words (its 1-byte runs), lane c the mask of the block's bytes in class c,
// each class as its one or two parts; lane 7 is spare, always 0.
void class_words_from_parts(const uint64_t (&parts)[kParts], LaneWords& words) {
  const NibbleTables& t = nibble_tables();
  for (size_t c = 0; c < kGateClassCount; ++c) {
    words.v[c] = parts[t.part_a[c]] | parts[t.part_b[c]];
  }
  words.v[7] = 0;
}

// One block, every lane: this block's planes from its class words (already in level 0) and
// the previous block's planes; `hits` gets, per lane, where the run it waits for ends. True
// when any does.
bool step_lanes_scalar(const Planes& prev, Planes& cur, const LaneNeeds& needs, LaneWords& hits) {
  const unsigned depth = std::max(needs.depth[0], needs.depth[1]);
  for (unsigned j = 1; j <= depth; ++j) {
    const unsigned k = 1u << (j - 1);
    for (size_t l = 0; l < kLanes; ++l) {
      const uint64_t y = cur.level[j - 1].v[l];
      cur.level[j].v[l] = y & ((y << k) | (prev.level[j - 1].v[l] >> (64 - k)));
    }
  }
  uint64_t any = 0;
  for (size_t l = 0; l < kLanes; ++l) {
    const uint64_t j = needs.level.v[l];
    hits.v[l] = run_end_bits(cur.level[j].v[l], prev.level[j].v[l],
                             static_cast<uint32_t>(needs.shift.v[l])) &
                needs.active.v[l];
    any |= hits.v[l];
  }
  return any != 0;
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

// Per class: thresholds met so far, and, for runs over 64 bytes, the run of bits of the
// 64-byte plane reaching the end of the block: a run of n > 64 bytes ends at byte i when that
// plane holds the n - 63 bytes ending at i, a run of n - 63 in it, counted across blocks.
struct Follow {
  size_t reached = 0;
  bool beyond = false;
  uint32_t current = 0;
};

// A lane following runs over 64 bytes, one block: `u` is its 64-byte plane's word (from the
// 32-byte level: 32 ending at i and 32 ending at i - 32). A threshold is met when its run in
// that plane crosses into this block or lies inside it.
void follow_beyond(Follow& f, size_t lane, const Planes& cur, const Planes& prev,
                   const std::vector<uint32_t>& t) {
  const uint64_t u = run_end_bits(cur.level[kTopLevel].v[lane], prev.level[kTopLevel].v[lane], 32);
  uint32_t longest;
  if (u == kAll) {
    f.current += 64;
    longest = f.current;
  } else {
    longest = f.current + static_cast<uint32_t>(std::countr_one(u));
    f.current = static_cast<uint32_t>(std::countl_one(u));
    longest = std::max(longest, f.current);
  }
  while (f.reached < t.size()) {
    const uint32_t m = t[f.reached] - 63;  // t > 64
    if (longest < m && (m > 64 || !has_run(u, m))) break;
    ++f.reached;
  }
}

// The lanes' state between blocks: what each waits for, what it has met, and the rare step
// after a block where a lane met its run.
class RunFollower {
 public:
  explicit RunFollower(const RunThresholds& thresholds) : thresholds_(thresholds) {
    for (size_t c = 0; c < kGateClassCount; ++c) {
      const std::vector<uint32_t>& t = thresholds[c];
      if (t.empty()) continue;
      open_ |= 1u << c;
      needs_.depth[c / 4] = std::max<unsigned>(needs_.depth[c / 4], shape_of(t.back()).level);
      if (t[0] <= 64) {
        needs_.wait_for(c, t[0]);
      } else {
        follow_[c].beyond = true;
        beyond_ |= 1u << c;
      }
    }
  }

  bool done() const { return open_ == 0; }
  bool has_beyond() const { return beyond_ != 0; }
  const LaneNeeds& needs() const { return needs_; }

  // After a block where some lane met its run, or while a lane follows runs over 64 bytes.
  void after_block(const Planes& cur, const Planes& prev, const LaneWords& hits) {
    for (uint32_t rest = open_; rest != 0; rest &= rest - 1) {
      const auto c = static_cast<size_t>(std::countr_zero(rest));
      if (!lane_after_block(c, cur, prev, hits)) {
        open_ &= ~(1u << c);
        needs_.stop(c);
      }
      if (follow_[c].beyond) beyond_ |= 1u << c;
    }
    beyond_ &= open_;
  }

  ClassRuns result() const {
    ClassRuns out{};
    for (size_t c = 0; c < kGateClassCount; ++c) {
      out[c] = follow_[c].reached > 0 ? thresholds_[c][follow_[c].reached - 1] : 0;
    }
    return out;
  }

 private:
  // A threshold above the one just met cannot have had its run end in an earlier block (that
  // block would have held the shorter run), so this block tells whether it is met. False when
  // the lane has met all its thresholds.
  bool lane_after_block(size_t c, const Planes& cur, const Planes& prev, const LaneWords& hits) {
    Follow& f = follow_[c];
    const std::vector<uint32_t>& t = thresholds_[c];
    if (f.beyond) {
      follow_beyond(f, c, cur, prev, t);
      return f.reached < t.size();
    }
    if (hits.v[c] == 0) return true;
    ++f.reached;
    while (f.reached < t.size() && t[f.reached] <= 64) {
      if (!run_ends_in_block(cur, prev, c, t[f.reached])) {
        needs_.wait_for(c, t[f.reached]);
        return true;
      }
      ++f.reached;
    }
    if (f.reached == t.size()) return false;
    // Past 64 bytes: no 64-byte run ended before this block (none of the threshold just met
    // did), so the count starts here.
    needs_.stop(c);
    f.beyond = true;
    f.current = 0;
    follow_beyond(f, c, cur, prev, t);
    return f.reached < t.size();
  }

  const RunThresholds& thresholds_;
  std::array<Follow, kGateClassCount> follow_{};
  LaneNeeds needs_;
  uint32_t open_ = 0;    // lanes with thresholds still to meet
  uint32_t beyond_ = 0;  // lanes following runs over 64 bytes
};

// A 64-byte block of the text, the last one padded with a byte outside every part (0x00).
class Blocks {
 public:
  explicit Blocks(std::string_view text) : text_(text) {}
  bool more() const { return at_ < text_.size(); }
  const unsigned char* next() {
    const auto* block = reinterpret_cast<const unsigned char*>(text_.data() + at_);
    const size_t n = std::min<size_t>(64, text_.size() - at_);
    at_ += 64;
    if (n == 64) return block;
    std::memcpy(tail_, block, n);
    std::memset(tail_ + n, 0, 64 - n);
    return tail_;
  }

 private:
  std::string_view text_;
  size_t at_ = 0;
  alignas(32) unsigned char tail_[64];
};

using PartMasks = void (*)(const unsigned char*, uint64_t (&)[kParts]);

ClassRuns follow_runs(std::string_view text, const RunThresholds& thresholds, PartMasks part_masks) {
  RunFollower follower(thresholds);
  Planes planes[2];  // this block's and the previous block's, in turn
  LaneWords hits;
  Blocks blocks(text);
  for (size_t b = 0; blocks.more() && !follower.done(); ++b) {
    uint64_t parts[kParts];
    part_masks(blocks.next(), parts);
    Planes& cur = planes[b & 1];
    const Planes& prev = planes[(b & 1) ^ 1];
    class_words_from_parts(parts, cur.level[0]);
    if (step_lanes_scalar(prev, cur, follower.needs(), hits) || follower.has_beyond()) {
      follower.after_block(cur, prev, hits);
    }
  }
  return follower.result();
}

#if defined(LLMTAP_HAVE_SSSE3_PATH)
// The same with AVX2, in one loop: the block's part bits (two nibble lookups per 32 bytes),
// each class's bit brought to the top of its bytes and read by a movemask (token and base64
// OR their two parts' bits first), the class words as two vectors of four lanes, then the
// planes: the level shifts are the same for all lanes (immediates, unrolled), the last step's
// per lane (vpsllvq / vpsrlvq; a count of 64 gives 0), each lane's level picked by blending in
// every level at or below it.
struct LaneVectors {
  __m256i y, py, sel, psel;
};

template <unsigned J>
__attribute__((target("avx2"), always_inline)) inline void build_level(LaneVectors& v,
                                                                      const Planes& prev,
                                                                      Planes& cur, __m256i level,
                                                                      size_t at) {
  constexpr int k = 1 << (J - 1);
  v.y = _mm256_and_si256(v.y, _mm256_or_si256(_mm256_slli_epi64(v.y, k),
                                              _mm256_srli_epi64(v.py, 64 - k)));
  v.py = _mm256_load_si256(reinterpret_cast<const __m256i*>(prev.level[J].v + at));
  _mm256_store_si256(reinterpret_cast<__m256i*>(cur.level[J].v + at), v.y);
  const __m256d take =
      _mm256_castsi256_pd(_mm256_cmpgt_epi64(level, _mm256_set1_epi64x(J - 1)));
  v.sel = _mm256_castpd_si256(
      _mm256_blendv_pd(_mm256_castsi256_pd(v.sel), _mm256_castsi256_pd(v.y), take));
  v.psel = _mm256_castpd_si256(
      _mm256_blendv_pd(_mm256_castsi256_pd(v.psel), _mm256_castsi256_pd(v.py), take));
}

// Bit c of each byte of `bits` (the part bits) is class c for c = 0-4; for the token class
// part 5 or 6, for base64 part 5 or 7. One 32-bit mask per class.
__attribute__((target("avx2"), always_inline)) inline void class_masks32(__m256i bits,
                                                                        uint32_t (&m)[8]) {
  auto top = [](__m256i v) __attribute__((target("avx2"), always_inline)) {
    return static_cast<uint32_t>(_mm256_movemask_epi8(v));
  };
  // 16-bit shifts: a low byte's bits land in its high byte's low bits, never its top.
  m[kDigit] = top(_mm256_slli_epi16(bits, 7));
  m[kHexColon] = top(_mm256_slli_epi16(bits, 6));
  m[kNumber] = top(_mm256_slli_epi16(bits, 5));
  m[kDottedDigits] = top(_mm256_slli_epi16(bits, 4));
  m[kUpperDigitSpace] = top(_mm256_slli_epi16(bits, 3));
  const __m256i five_or_six = _mm256_or_si256(bits, _mm256_slli_epi16(bits, 1));  // at bit 6
  m[kToken] = top(_mm256_slli_epi16(five_or_six, 1));
  m[kBase64] = top(_mm256_or_si256(bits, _mm256_slli_epi16(bits, 2)));  // 5 or 7, at bit 7
  m[7] = 0;
}

__attribute__((target("avx2"))) ClassRuns follow_runs_avx2(std::string_view text,
                                                           const RunThresholds& thresholds) {
  static_assert(kToken == 5 && kBase64 == 6 && kUpperDigitSpace == 4);
  static_assert(kTopLevel == 5);
  const NibbleTables& t = nibble_tables();
  const __m256i lo_table =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t.lo.data())));
  const __m256i hi_table =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t.hi.data())));
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  auto classify = [&](const unsigned char* p) __attribute__((target("avx2"), always_inline)) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm256_and_si256(
        _mm256_shuffle_epi8(lo_table, _mm256_and_si256(v, nibble)),
        _mm256_shuffle_epi8(hi_table, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble)));
  };
  RunFollower follower(thresholds);
  Planes planes[2];
  LaneWords hits;
  Blocks blocks(text);
  for (size_t b = 0; blocks.more() && !follower.done(); ++b) {
    const unsigned char* block = blocks.next();
    uint32_t low[8], high[8];
    class_masks32(classify(block), low);
    class_masks32(classify(block + 32), high);
    Planes& cur = planes[b & 1];
    const Planes& prev = planes[(b & 1) ^ 1];
    const LaneNeeds& needs = follower.needs();
    __m256i any = _mm256_setzero_si256();
    for (unsigned h = 0; h < 2; ++h) {
      const size_t at = 4 * h;
      auto load = [at](const LaneWords& lw) __attribute__((target("avx2"), always_inline)) {
        return _mm256_load_si256(reinterpret_cast<const __m256i*>(lw.v + at));
      };
      LaneVectors v;
      v.y = _mm256_setr_epi32(static_cast<int>(low[at]), static_cast<int>(high[at]),
                              static_cast<int>(low[at + 1]), static_cast<int>(high[at + 1]),
                              static_cast<int>(low[at + 2]), static_cast<int>(high[at + 2]),
                              static_cast<int>(low[at + 3]), static_cast<int>(high[at + 3]));
      v.py = load(prev.level[0]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(cur.level[0].v + at), v.y);
      v.sel = v.y;
      v.psel = v.py;
      const unsigned depth = needs.depth[h];
      const __m256i level = load(needs.level);
      if (depth >= 1) build_level<1>(v, prev, cur, level, at);
      if (depth >= 2) build_level<2>(v, prev, cur, level, at);
      if (depth >= 3) build_level<3>(v, prev, cur, level, at);
      if (depth >= 4) build_level<4>(v, prev, cur, level, at);
      if (depth >= 5) build_level<5>(v, prev, cur, level, at);
      const __m256i d = load(needs.shift);  // the carry's shift, 64 - d, is 64 for d = 0: none
      const __m256i shifted = _mm256_or_si256(
          _mm256_sllv_epi64(v.sel, d),
          _mm256_srlv_epi64(v.psel, _mm256_sub_epi64(_mm256_set1_epi64x(64), d)));
      const __m256i hit = _mm256_and_si256(_mm256_and_si256(v.sel, shifted), load(needs.active));
      _mm256_store_si256(reinterpret_cast<__m256i*>(hits.v + at), hit);
      any = _mm256_or_si256(any, hit);
    }
    if (!_mm256_testz_si256(any, any) || follower.has_beyond()) {
      follower.after_block(cur, prev, hits);
    }
  }
  return follower.result();
}
#endif

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
  switch (kernel) {
#if defined(LLMTAP_HAVE_SSSE3_PATH)
    case ByteClassKernel::kAvx2:
      if (have_avx2()) return follow_runs_avx2(text, thresholds);
      break;
    case ByteClassKernel::kSsse3:
      if (have_ssse3()) return follow_runs(text, thresholds, part_masks_ssse3);
      break;
#endif
    default:
      break;
  }
  return follow_runs(text, thresholds, part_masks_scalar);
}

}  // namespace llmtap::policy
