#include "sink/json_text.h"

#include <cstdint>
#include <cstring>

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

}  // namespace

void append_base64(std::string& out, std::string_view bytes) {
  // Table lookups: OpenSSL 3's EVP_EncodeBlock selects each character in constant time
  // (meant for keys), several times slower on captured plaintext.
  const size_t start = out.size();
  out.resize(start + 4 * ((bytes.size() + 2) / 3));
  char* p = out.data() + start;
  const auto* in = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t n = bytes.size();
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
  }
}

}  // namespace llmtap::sink
