#include "policy/detection/pattern_facts.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>

#include "common/wire_text.h"
#include "policy/detection/pattern_tree.h"

namespace llmtap::policy {

std::optional<unsigned long> read_hex_escape(std::string_view p, size_t& i) {
  if (i + 1 < p.size() && p[i + 1] == '{') {
    const size_t close = p.find('}', i);
    if (close == std::string_view::npos || close == i + 2 || close - i > 10) return std::nullopt;
    unsigned long cp = 0;
    for (size_t k = i + 2; k < close; ++k) {
      const int v = common::hex_digit_value(p[k]);
      if (v < 0) return std::nullopt;
      cp = cp * 16 + static_cast<unsigned long>(v);
    }
    i = close;
    return cp <= 0x10FFFF ? std::optional(cp) : std::nullopt;
  }
  if (i + 2 >= p.size()) return std::nullopt;
  const int hi = common::hex_digit_value(p[i + 1]);
  const int lo = common::hex_digit_value(p[i + 2]);
  if (hi < 0 || lo < 0) return std::nullopt;
  i += 2;
  return static_cast<unsigned long>(hi * 16 + lo);
}

namespace {

constexpr size_t kWidthLimit = size_t{1} << 24;  // wider counts as unbounded

std::optional<size_t> widest(const PatternNode& n) {
  switch (n.kind) {
    case PatternNode::Kind::kEmpty:
      return 0;
    case PatternNode::Kind::kBytes:
      return n.width;
    case PatternNode::Kind::kConcat: {
      size_t total = 0;
      for (const PatternNode& k : n.kids) {
        const auto w = widest(k);
        if (!w || total + *w > kWidthLimit) return std::nullopt;
        total += *w;
      }
      return total;
    }
    case PatternNode::Kind::kAlternation: {
      size_t most = 0;
      for (const PatternNode& k : n.kids) {
        const auto w = widest(k);
        if (!w) return std::nullopt;
        most = std::max(most, *w);
      }
      return most;
    }
    case PatternNode::Kind::kRepeat: {
      if (!n.max_count) return std::nullopt;
      if (*n.max_count == 0) return 0;
      const auto w = widest(n.kids.front());
      if (!w || (*w != 0 && *w > kWidthLimit / *n.max_count)) return std::nullopt;
      return *w * *n.max_count;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<size_t> max_match_bytes(const std::string& pattern) {
  const auto tree = read_pattern_tree(pattern);
  if (!tree) return std::nullopt;
  return widest(*tree);
}

namespace {

constexpr std::string_view kHighBytes = R"((?:[\x80-\xFF]{1,4}))";

void append_byte_escaped(std::string& out, unsigned char b) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += "\\x";
  out += kHex[b >> 4];
  out += kHex[b & 0xF];
}

void append_utf8_escaped(std::string& out, unsigned long cp) {
  char bytes[4];
  size_t n = 0;
  if (cp < 0x80) {
    bytes[n++] = static_cast<char>(cp);
  } else if (cp < 0x800) {
    bytes[n++] = static_cast<char>(0xC0 | (cp >> 6));
    bytes[n++] = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    bytes[n++] = static_cast<char>(0xE0 | (cp >> 12));
    bytes[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    bytes[n++] = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    bytes[n++] = static_cast<char>(0xF0 | (cp >> 18));
    bytes[n++] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    bytes[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    bytes[n++] = static_cast<char>(0x80 | (cp & 0x3F));
  }
  for (size_t i = 0; i < n; ++i) append_byte_escaped(out, static_cast<unsigned char>(bytes[i]));
}

// Whether an inline flag group ("(?s)", "(?is:") turns `flag` on anywhere in the pattern.
bool has_inline_flag(std::string_view p, char flag) {
  for (size_t at = p.find("(?"); at != std::string_view::npos; at = p.find("(?", at + 2)) {
    for (size_t k = at + 2; k < p.size() && p[k] != ')' && p[k] != ':'; ++k) {
      if (p[k] == '-') break;
      if (p[k] == flag) return true;
    }
  }
  return false;
}

}  // namespace

std::optional<std::string> hyperscan_byte_pattern(std::string_view p) {
  const bool caseless = has_inline_flag(p, 'i');
  const std::string any_char = has_inline_flag(p, 's') ? R"((?:[\x00-\x7F]|[\x80-\xFF]{1,4}))"
                                                       : R"((?:[^\n\x80-\xFF]|[\x80-\xFF]{1,4}))";
  std::string out;
  out.reserve(p.size() + 16);
  for (size_t i = 0; i < p.size(); ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c >= 0x80) {
      if (caseless) return std::nullopt;  // RE2 folds its case; bytes would not
      append_byte_escaped(out, c);        // a byte of a UTF-8 literal: matched as itself
      continue;
    }
    if (c == '.') {
      out += any_char;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= p.size()) return std::nullopt;
      const char e = p[++i];
      switch (e) {
        case 'W':
        case 'S':
        case 'D':
          out += "(?:\\";
          out += e;
          out += "|";
          out += kHighBytes;
          out += ")";
          break;
        case 'p':
        case 'P':
        case 'C':
        case 'X':
        case 'Q':
        case 'E':
          return std::nullopt;
        case 'x': {
          const auto cp = read_hex_escape(p, i);
          if (!cp) return std::nullopt;
          if (*cp >= 0x80 && caseless) return std::nullopt;
          append_utf8_escaped(out, *cp);
          break;
        }
        default:
          out += '\\';
          out += e;
      }
      continue;
    }
    if (c != '[') {
      // Control bytes written: Hyperscan reads the pattern as a C string, so a NUL would end it
      // (and cut off the alternatives after it).
      if (c < 0x20 || c == 0x7F) {
        append_byte_escaped(out, c);
      } else {
        out += static_cast<char>(c);
      }
      continue;
    }
    // A character class, copied; wide when RE2 can match a non-ASCII code point with it.
    std::string cls = "[";
    size_t k = i + 1;
    bool negated = false;
    bool wide = false;
    if (k < p.size() && p[k] == '^') {
      negated = true;
      wide = true;
      cls += '^';
      ++k;
    }
    if (k < p.size() && p[k] == ']') cls += p[k++];  // "[]..." : ']' is a member
    if (negated) cls += R"(\x80-\xFF)";              // high bytes go to the multi-byte branch
    bool closed = false;
    for (; k < p.size(); ++k) {
      const auto m = static_cast<unsigned char>(p[k]);
      if (m >= 0x80) return std::nullopt;
      if (m == ']') {
        closed = true;
        break;
      }
      if (m == '[' && p.substr(k, 2) == "[:") {
        const size_t end = p.find(":]", k + 2);
        if (end == std::string_view::npos) return std::nullopt;
        if (p[k + 2] == '^') wide = true;
        cls.append(p.substr(k, end + 2 - k));
        k = end + 1;
        continue;
      }
      if (m == '\\') {
        if (k + 1 >= p.size()) return std::nullopt;
        const char e = p[++k];
        if (e == 'p' || e == 'P' || e == 'Q' || e == 'E' || e == 'C') return std::nullopt;
        if (e == 'x') {
          const auto cp = read_hex_escape(p, k);
          if (!cp || *cp >= 0x80) return std::nullopt;
          append_utf8_escaped(cls, *cp);
          continue;
        }
        if (e == 'W' || e == 'S' || e == 'D') wide = true;
        cls += '\\';
        cls += e;
        continue;
      }
      if (m < 0x20 || m == 0x7F) {
        append_byte_escaped(cls, m);
      } else {
        cls += static_cast<char>(m);
      }
    }
    if (!closed) return std::nullopt;
    cls += ']';
    i = k;
    if (wide) {
      out += "(?:" + cls + "|" + std::string(kHighBytes) + ")";
    } else {
      out += cls;
    }
  }
  return out;
}

std::optional<std::string> decode_byte_escapes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 1 >= text.size()) return std::nullopt;
    if (text[i + 1] == '\\') {
      out.push_back('\\');
      ++i;
      continue;
    }
    if (text[i + 1] != 'x' || i + 3 >= text.size()) return std::nullopt;
    const int hi = common::hex_digit_value(text[i + 2]);
    const int lo = common::hex_digit_value(text[i + 3]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 3;
  }
  return out;
}

}  // namespace llmtap::policy
