#include "sink/json_text.h"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "common/utf8.h"

namespace llmtap::sink {

namespace {

// Bytes written as they are: printable ASCII other than '"' and '\\'.
struct PlainBytes {
  bool plain[256] = {};
  constexpr PlainBytes() {
    for (int c = 0x20; c < 0x7F; ++c) plain[c] = c != '"' && c != '\\';
  }
};
constexpr PlainBytes kPlain;
constexpr bool plain(uint8_t c) { return kPlain.plain[c]; }

}  // namespace

void append_json_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < text.size();) {
    // Runs of plain bytes (nearly all of a typical value) are appended whole.
    size_t run = i;
    while (run < text.size() && plain(static_cast<uint8_t>(text[run]))) ++run;
    if (run != i) {
      out.append(text.data() + i, run - i);
      i = run;
      if (i == text.size()) break;
    }
    const auto c = static_cast<uint8_t>(text[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      const size_t len = common::utf8_sequence_length(text, i);
      if (len == 0) {
        out += "\\ufffd";
        ++i;
        continue;
      }
      out.append(text.substr(i, len));
      i += len;
      continue;
    }
    ++i;
  }
}

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  append_json_escaped(out, text);
  out.push_back('"');
}

namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The two characters of every 12-bit value: three input bytes become two lookups.
struct Base64Pairs {
  char pair[4096][2] = {};
  constexpr Base64Pairs() {
    for (int v = 0; v < 4096; ++v) {
      pair[v][0] = kBase64Alphabet[v >> 6];
      pair[v][1] = kBase64Alphabet[v & 63];
    }
  }
};
constexpr Base64Pairs kBase64Pairs;

// Three bytes at a time, from the table: returns where the output ends.
char* base64_scalar(const uint8_t* in, size_t n, char* p) {
  // Table lookups: OpenSSL 3's EVP_EncodeBlock selects each character in constant time
  // (meant for keys), several times slower on captured plaintext.
  for (; n >= 3; n -= 3, in += 3, p += 4) {
    const uint32_t v = uint32_t{in[0]} << 16 | uint32_t{in[1]} << 8 | in[2];
    std::memcpy(p, kBase64Pairs.pair[v >> 12], 2);
    std::memcpy(p + 2, kBase64Pairs.pair[v & 0xFFF], 2);
  }
  if (n != 0) {
    const uint32_t v = uint32_t{in[0]} << 16 | (n == 2 ? uint32_t{in[1]} << 8 : 0);
    p[0] = kBase64Alphabet[v >> 18];
    p[1] = kBase64Alphabet[(v >> 12) & 63];
    p[2] = n == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=';
    p[3] = '=';
    p += 4;
  }
  return p;
}

#if defined(__x86_64__)
// 24 bytes in, 32 characters out per step, while 28 bytes can be read (each 128-bit lane
// loads 16 bytes and uses 12). In each lane, every 3 bytes a b c become the 32-bit word
// with bytes b a c b; as two 16-bit halves (a b) and (b c) the four sextets are bits 10-15
// and 4-9 of the first, 6-11 and 0-5 of the second: a high multiply brings the 1st and 3rd
// down to the bottom of their halves, a low multiply the 2nd and 4th up to the top byte.
// Then each sextet v becomes its character by adding an offset picked by its range:
// 0-25 'A', 26-51 'a' - 26, 52-61 '0' - 52, 62 '+' - 62, 63 '/' - 63.
__attribute__((target("avx2"))) char* base64_avx2(const uint8_t* in, size_t n, char* p) {
  const __m256i spread = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
                                          1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
  const __m256i offsets = _mm256_setr_epi8(
      'a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
      '0' - 52, '0' - 52, '+' - 62, '/' - 63, 'A', 0, 0, 'a' - 26, '0' - 52, '0' - 52, '0' - 52,
      '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '+' - 62, '/' - 63,
      'A', 0, 0);
  for (; n >= 28; n -= 24, in += 24, p += 32) {
    const __m128i low = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
    const __m128i high = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 12));
    const __m256i v =
        _mm256_shuffle_epi8(_mm256_inserti128_si256(_mm256_castsi128_si256(low), high, 1), spread);
    const __m256i first_third =
        _mm256_mulhi_epu16(_mm256_and_si256(v, _mm256_set1_epi32(0x0FC0FC00)),
                           _mm256_set1_epi32(0x04000040));
    const __m256i second_fourth =
        _mm256_mullo_epi16(_mm256_and_si256(v, _mm256_set1_epi32(0x003F03F0)),
                           _mm256_set1_epi32(0x01000010));
    const __m256i sextets = _mm256_or_si256(first_third, second_fourth);
    // Range: 0 for 26-51, 1-12 for 52-63 (saturating), 13 for 0-25.
    __m256i range = _mm256_subs_epu8(sextets, _mm256_set1_epi8(51));
    range = _mm256_or_si256(
        range, _mm256_and_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(26), sextets),
                                _mm256_set1_epi8(13)));
    const __m256i text = _mm256_add_epi8(sextets, _mm256_shuffle_epi8(offsets, range));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), text);
  }
  return base64_scalar(in, n, p);
}

bool have_avx2() {
  static const bool have = __builtin_cpu_supports("avx2");
  return have;
}
#endif

}  // namespace

std::vector<Base64Kernel> base64_kernels() {
  std::vector<Base64Kernel> kernels{Base64Kernel::kScalar};
#if defined(__x86_64__)
  if (have_avx2()) kernels.push_back(Base64Kernel::kAvx2);
#endif
  return kernels;
}

void append_base64(std::string& out, std::string_view bytes, Base64Kernel kernel) {
  const size_t start = out.size();
  out.resize(start + 4 * ((bytes.size() + 2) / 3));
  const auto* in = reinterpret_cast<const uint8_t*>(bytes.data());
  char* p = out.data() + start;
#if defined(__x86_64__)
  if (kernel == Base64Kernel::kAvx2 && have_avx2()) {
    base64_avx2(in, bytes.size(), p);
    return;
  }
#endif
  base64_scalar(in, bytes.size(), p);
}

void append_base64(std::string& out, std::string_view bytes) {
  static const Base64Kernel best = base64_kernels().back();
  append_base64(out, bytes, best);
}

}  // namespace llmtap::sink
