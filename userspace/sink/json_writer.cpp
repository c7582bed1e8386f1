#include "sink/json_writer.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/utf8.h"

namespace llmtap::sink {
namespace {

// The thread's buffer, reused by every writer on it (one event at a time).
JsonWriter::Buffer& thread_buffer() {
  thread_local JsonWriter::Buffer buffer;
  return buffer;
}

// A buffer grown past this by a huge event is given back when the writer is done.
constexpr size_t kKeptCapacity = size_t{1} << 20;

// Bytes written as they are: printable ASCII other than '"' and '\\'.
struct PlainBytes {
  bool plain[256] = {};
  constexpr PlainBytes() {
    for (int c = 0x20; c < 0x7F; ++c) plain[c] = c != '"' && c != '\\';
  }
};
constexpr PlainBytes kPlain;

// Bit 7 of each byte of w (bytes in memory order, little-endian) set when the byte is not
// plain: from 0x80, below 0x20, 0x7F, '"' or '\\'. Exact byte by byte: no step carries
// into the next byte (each adds to at most seven bits).
inline uint64_t special_bytes8(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  const uint64_t low7 = w & ~kHighs;
  const uint64_t below_space = ~(low7 + 0x60 * kOnes) & kHighs;  // 0x00-0x1F
  const uint64_t del = (low7 + kOnes) & kHighs;                    // 0x7F
  const uint64_t quote = low7 ^ ('"' * kOnes);
  const uint64_t backslash = low7 ^ ('\\' * kOnes);
  const uint64_t is_quote = ~((quote + 0x7F * kOnes) | quote) & kHighs;
  const uint64_t is_backslash = ~((backslash + 0x7F * kOnes) | backslash) & kHighs;
  return (w & kHighs) | below_space | del | is_quote | is_backslash;
}

#if defined(__SSE2__)
// The plain bytes of 16 from byte `from` (0 to 15) on: bytes below 0x20 or from 0x80 (signed,
// both are below 0x20), '"', '\\' and 0x7F end the run. 16: bytes from..15 are all plain.
inline unsigned plain_run16(__m128i v, unsigned from = 0) {
  const __m128i special = _mm_or_si128(
      _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)), _mm_cmpeq_epi8(v, _mm_set1_epi8('"'))),
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F))));
  const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(special)) >> from << from;
  return mask == 0 ? 16 : static_cast<unsigned>(std::countr_zero(mask));
}
#endif

}  // namespace

JsonWriter::JsonWriter(std::string& out) : out_(out) {
  Buffer& shared = thread_buffer();
  buffer_ = shared.busy ? &own_ : &shared;
  buffer_->busy = true;
  pos_ = buffer_->data.get();
  limit_ = pos_ + buffer_->capacity;
}

JsonWriter::~JsonWriter() {
  finish();
  buffer_->busy = false;
  if (buffer_->capacity > kKeptCapacity) {
    buffer_->data.reset();
    buffer_->capacity = 0;
  }
}

void JsonWriter::finish() {
  const size_t len = written();
  if (len == 0) return;
  out_.append(buffer_->data.get(), len);
  pos_ = buffer_->data.get();
}

void JsonWriter::grow(size_t n) {
  const size_t len = written();
  const size_t capacity = std::max({len + n, 2 * buffer_->capacity, size_t{4096}});
  auto data = std::make_unique<char[]>(capacity);
  if (len != 0) std::memcpy(data.get(), buffer_->data.get(), len);
  buffer_->data = std::move(data);
  buffer_->capacity = capacity;
  pos_ = buffer_->data.get() + len;
  limit_ = buffer_->data.get() + capacity;
}

// As append_json_escaped (json_text.h): the same bytes, written in place.
void JsonWriter::escaped(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  // At most 6 bytes out per byte in (\u00XX, or \ufffd for an invalid byte).
  const size_t n = text.size();
  const char* const s = text.data();
  char* const start = room(6 * n);
  // Most values are short and plain (hosts, models, names): two overlapping words cover the
  // whole string and are stored as they are.
  if (n >= 8 && n <= 16) {
    uint64_t head, tail;
    std::memcpy(&head, s, 8);
    std::memcpy(&tail, s + n - 8, 8);
    if ((special_bytes8(head) | special_bytes8(tail)) == 0) {
      std::memcpy(start, &head, 8);
      std::memcpy(start + n - 8, &tail, 8);
      pos_ = start + n;
      return;
    }
  } else if (n >= 4 && n < 8) {
    uint32_t head, tail;
    std::memcpy(&head, s, 4);
    std::memcpy(&tail, s + n - 4, 4);
    if (special_bytes8((uint64_t{tail} << 32) | head) == 0) {
      std::memcpy(start, &head, 4);
      std::memcpy(start + n - 4, &tail, 4);
      pos_ = start + n;
      return;
    }
  }
  char* p = start;
  for (size_t i = 0; i < n;) {
#if defined(__SSE2__)
    // Sixteen bytes at a time while they are plain: stored whole (the room asked for is six
    // times what is left to read), kept as far as the run goes.
    if (i + 16 <= n) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
      const unsigned run = plain_run16(v);
      p += run;
      i += run;
      if (run == 16) continue;
    } else if (n >= 16 && p - start == static_cast<ptrdiff_t>(i)) {
      // The last few bytes of a long string, while nothing before them was escaped (the
      // output is the input so far): the string's last 16 bytes, loaded and stored at the
      // same place, when none of those not yet copied needs escaping.
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + n - 16));
      const unsigned done = static_cast<unsigned>(16 - (n - i));  // bytes of v already out
      if (plain_run16(v, done) == 16) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(start + n - 16), v);
        p = start + n;
        break;
      }
    }
    if (i >= n) break;
#endif
    // Then eight at a time, and the last few one by one, copied as they are read.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      std::memcpy(p, &w, 8);
      const uint64_t special = special_bytes8(w);
      const unsigned run = special == 0 ? 8 : static_cast<unsigned>(std::countr_zero(special)) / 8;
      p += run;
      i += run;
      if (run == 8) continue;
    }
    while (i < n && kPlain.plain[static_cast<uint8_t>(s[i])]) *p++ = s[i++];
    if (i >= n) break;
    const auto c = static_cast<uint8_t>(text[i]);  // not plain
    if (c == '"' || c == '\\') {
      *p++ = '\\';
      *p++ = static_cast<char>(c);
    } else if (c == '\n') {
      *p++ = '\\';
      *p++ = 'n';
    } else if (c == '\r') {
      *p++ = '\\';
      *p++ = 'r';
    } else if (c == '\t') {
      *p++ = '\\';
      *p++ = 't';
    } else if (c < 0x20 || c == 0x7F) {
      std::memcpy(p, "\\u00", 4);
      p[4] = kHex[c >> 4];
      p[5] = kHex[c & 0xF];
      p += 6;
    } else {
      const size_t len = common::utf8_sequence_length(text, i);
      if (len == 0) {
        std::memcpy(p, "\\ufffd", 6);
        p += 6;
        ++i;
        continue;
      }
      std::memcpy(p, text.data() + i, len);
      p += len;
      i += len;
      continue;
    }
    ++i;
  }
  pos_ = p;
}

void JsonWriter::open(char bracket) {
  put(bracket);
  ++depth_;
  has_member_ &= ~(uint64_t{1} << depth_);
}

void JsonWriter::close(char bracket) {
  --depth_;
  put(bracket);
}

void JsonWriter::begin_object() {
  const uint64_t bit = uint64_t{1} << depth_;
  if (has_member_ & bit) put(',');
  has_member_ |= bit;
  open('{');
}

void JsonWriter::begin_object(std::string_view k) {
  key(k);
  open('{');
}

void JsonWriter::end_object() { close('}'); }

void JsonWriter::begin_array(std::string_view k) {
  key(k);
  open('[');
}

void JsonWriter::end_array() { close(']'); }

void JsonWriter::string(std::string_view k, std::string_view value) {
  key(k);
  put('"');
  escaped(value);
  put('"');
}

void JsonWriter::string_if(std::string_view k, std::string_view value) {
  if (!value.empty()) string(k, value);
}

void JsonWriter::string_parts(std::string_view k, std::initializer_list<std::string_view> parts) {
  key(k);
  put('"');
  for (const std::string_view part : parts) escaped(part);
  put('"');
}

void JsonWriter::number(std::string_view k, uint64_t value) {
  key(k);
  char* p = room(20);
  pos_ = std::to_chars(p, p + 20, value).ptr;
}

void JsonWriter::number_fixed(std::string_view k, double value, int decimals) {
  if (!std::isfinite(value)) return;
  key(k);
  char buf[352];  // DBL_MAX in fixed notation with 17 decimals fits
  const auto result = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed,
                                    std::clamp(decimals, 0, 17));
  std::string_view text(buf, static_cast<size_t>(result.ptr - buf));
  if (text.find('.') != std::string_view::npos) {
    text.remove_suffix(text.size() - 1 - text.find_last_not_of('0'));
    if (text.back() == '.') text.remove_suffix(1);
  }
  put(text == "-0" ? "0" : text);
}

void JsonWriter::boolean(std::string_view k, bool value) {
  key(k);
  put(value ? std::string_view("true") : std::string_view("false"));
}

void JsonWriter::member_text(std::string_view member) {
  const uint64_t bit = uint64_t{1} << depth_;
  if (has_member_ & bit) put(',');
  has_member_ |= bit;
  put(member);
}

void JsonWriter::element(std::string_view value) {
  const uint64_t bit = uint64_t{1} << depth_;
  if (has_member_ & bit) put(',');
  has_member_ |= bit;
  put('"');
  escaped(value);
  put('"');
}

}  // namespace llmtap::sink
