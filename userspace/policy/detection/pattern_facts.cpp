#include "policy/detection/pattern_facts.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>

#include "common/wire_text.h"

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

// Longest match in bytes, read from RE2 syntax by recursive descent: UTF-8 widths as RE2
// matches them (`.`, negated classes, \W \S \D, \p: up to 4 bytes; under (?i) the ASCII
// letters k and s also match U+212A and U+017F, so 3). nullopt: unbounded or unreadable.
class WidthReader {
 public:
  explicit WidthReader(std::string_view p) : p_(p) {}

  std::optional<size_t> read() {
    auto w = alternation(false);
    if (!w || pos_ != p_.size()) return std::nullopt;
    return w;
  }

 private:
  static constexpr size_t kLimit = size_t{1} << 24;  // wider counts as unbounded

  static std::optional<size_t> times(std::optional<size_t> w, size_t n) {
    if (!w) return std::nullopt;
    if (n != 0 && *w > kLimit / n) return std::nullopt;
    return *w * n;
  }
  static std::optional<size_t> plus(std::optional<size_t> a, std::optional<size_t> b) {
    if (!a || !b || *a + *b > kLimit) return std::nullopt;
    return *a + *b;
  }
  static size_t utf8_length(unsigned long cp) {
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  size_t letter_width(char c) const {
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return caseless_ && (lower == 'k' || lower == 's') ? 3 : 1;
  }

  // Alternatives up to ')' (inside a group) or the end.
  std::optional<size_t> alternation(bool in_group) {
    const bool saved = caseless_;
    std::optional<size_t> widest = 0;
    while (true) {
      auto w = concatenation();
      if (!w) widest = std::nullopt;
      if (widest && w) widest = std::max(*widest, *w);
      if (pos_ < p_.size() && p_[pos_] == '|') {
        ++pos_;
        continue;
      }
      break;
    }
    if (in_group) {
      if (pos_ >= p_.size() || p_[pos_] != ')') return fail();
      ++pos_;
    }
    caseless_ = saved;  // flags set inside a group end with it
    return failed_ ? std::nullopt : widest;
  }

  std::optional<size_t> concatenation() {
    std::optional<size_t> total = 0;
    while (pos_ < p_.size() && p_[pos_] != '|' && p_[pos_] != ')') {
      auto w = atom();
      if (failed_) return std::nullopt;
      w = quantified(w);
      if (failed_) return std::nullopt;
      total = plus(total, w);
    }
    return total;
  }

  std::optional<size_t> quantified(std::optional<size_t> w) {
    while (pos_ < p_.size()) {
      const char c = p_[pos_];
      if (c == '*' || c == '+') {
        ++pos_;
        w = std::nullopt;
      } else if (c == '?') {
        ++pos_;
      } else if (c == '{') {
        size_t k = pos_ + 1;
        size_t lo = 0, hi = 0;
        bool has_lo = false, comma = false, has_hi = false;
        while (k < p_.size() && std::isdigit(static_cast<unsigned char>(p_[k]))) {
          lo = lo * 10 + static_cast<size_t>(p_[k++] - '0');
          has_lo = true;
          if (lo > kLimit) return fail();
        }
        if (k < p_.size() && p_[k] == ',') {
          comma = true;
          ++k;
          while (k < p_.size() && std::isdigit(static_cast<unsigned char>(p_[k]))) {
            hi = hi * 10 + static_cast<size_t>(p_[k++] - '0');
            has_hi = true;
            if (hi > kLimit) return fail();
          }
        }
        if (!has_lo || k >= p_.size() || p_[k] != '}') return w;  // a literal '{'
        pos_ = k + 1;
        w = comma ? (has_hi ? times(w, hi) : std::nullopt) : times(w, lo);
      } else {
        return w;
      }
      if (pos_ < p_.size() && p_[pos_] == '?') ++pos_;  // lazy
    }
    return w;
  }

  std::optional<size_t> atom() {
    const char c = p_[pos_++];
    switch (c) {
      case '(':
        return group();
      case '[':
        return char_class();
      case '.':
        return 4;
      case '^':
      case '$':
        return 0;
      case '\\':
        return escape(false);
      default:
        if (static_cast<unsigned char>(c) >= 0x80) return 1;  // one byte of a literal
        if (c == '{') return 1;
        return letter_width(c);
    }
  }

  std::optional<size_t> group() {
    const auto opening = read_group_opening(p_, pos_, caseless_);
    if (!opening) return fail();
    if (opening->kind == GroupOpening::Kind::kFlagsOnly) {
      caseless_ = opening->caseless;
      return 0;
    }
    const bool saved = caseless_;
    caseless_ = opening->caseless;
    auto w = alternation(true);
    caseless_ = saved;
    return w;
  }

  std::optional<size_t> escape(bool in_class) {
    if (pos_ >= p_.size()) return fail();
    const char e = p_[pos_++];
    switch (e) {
      case 'd':
      case 's':
      case 'w':
      case 'n':
      case 't':
      case 'r':
      case 'f':
      case 'v':
      case 'a':
        return 1;
      case 'D':
      case 'S':
      case 'W':
        return 4;
      case 'p':
      case 'P':
        if (pos_ < p_.size() && p_[pos_] == '{') {
          const size_t close = p_.find('}', pos_);
          if (close == std::string_view::npos) return fail();
          pos_ = close + 1;
        } else {
          ++pos_;
        }
        return 4;
      case 'C':
        return 1;
      case 'b':
      case 'B':
      case 'A':
      case 'z':
        return in_class ? fail() : std::optional<size_t>(0);
      case 'Q': {
        const size_t close = p_.find("\\E", pos_);
        const size_t end = close == std::string_view::npos ? p_.size() : close;
        const size_t n = end - pos_;
        pos_ = close == std::string_view::npos ? p_.size() : close + 2;
        return caseless_ ? n * 3 : n;
      }
      case 'x': {
        size_t i = pos_ - 1;
        const auto cp = read_hex_escape(p_, i);
        if (!cp) return fail();
        pos_ = i + 1;
        return utf8_length(*cp);
      }
      default:
        if (std::isdigit(static_cast<unsigned char>(e))) {  // octal \123
          while (pos_ < p_.size() && std::isdigit(static_cast<unsigned char>(p_[pos_]))) ++pos_;
          return 1;
        }
        return letter_width(e);
    }
  }

  std::optional<size_t> char_class() {
    size_t widest = 1;
    if (pos_ < p_.size() && p_[pos_] == '^') {
      ++pos_;
      widest = 4;  // any code point outside the set
    }
    bool first = true;
    while (pos_ < p_.size() && (p_[pos_] != ']' || first)) {
      first = false;
      if (p_.substr(pos_, 2) == "[:") {
        const size_t close = p_.find(":]", pos_ + 2);
        if (close == std::string_view::npos) return fail();
        if (p_[pos_ + 2] == '^') widest = 4;
        pos_ = close + 2;
        continue;
      }
      size_t w = 1;
      const char c = p_[pos_++];
      if (c == '\\') {
        const auto e = escape(true);
        if (!e) return fail();
        w = *e;
      } else if (static_cast<unsigned char>(c) >= 0x80) {
        w = 4;  // part of a non-ASCII member
      } else {
        w = letter_width(c);
      }
      // A range a-z: as wide as its upper end.
      if (pos_ + 1 < p_.size() && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        const char h = p_[pos_++];
        if (h == '\\') {
          const auto e = escape(true);
          if (!e) return fail();
          w = std::max(w, *e);
        } else if (static_cast<unsigned char>(h) >= 0x80) {
          w = 4;
        } else if (caseless_ && std::isalpha(static_cast<unsigned char>(h))) {
          w = 3;  // a caseless range of letters may span k or s
        }
      }
      widest = std::max(widest, w);
    }
    if (pos_ >= p_.size()) return fail();
    ++pos_;  // ']'
    return widest;
  }

  std::optional<size_t> fail() {
    failed_ = true;
    return std::nullopt;
  }

  std::string_view p_;
  size_t pos_ = 0;
  bool caseless_ = false;
  bool failed_ = false;
};

}  // namespace

std::optional<GroupOpening> read_group_opening(std::string_view p, size_t& pos, bool caseless) {
  if (pos >= p.size() || p[pos] != '?') return GroupOpening{GroupOpening::Kind::kGroup, caseless};
  ++pos;
  if (pos < p.size() && (p[pos] == 'P' || p[pos] == '<')) {  // named
    const size_t close = p.find('>', pos);
    if (close == std::string_view::npos) return std::nullopt;
    pos = close + 1;
    return GroupOpening{GroupOpening::Kind::kGroup, caseless};
  }
  bool on = true;
  while (pos < p.size() && p[pos] != ')' && p[pos] != ':') {
    const char f = p[pos++];
    if (f == '-')
      on = false;
    else if (f == 'i')
      caseless = on;
    else if (f != 's' && f != 'm' && f != 'U')
      return std::nullopt;
  }
  if (pos >= p.size()) return std::nullopt;
  const bool flags_only = p[pos++] == ')';
  return GroupOpening{flags_only ? GroupOpening::Kind::kFlagsOnly : GroupOpening::Kind::kGroup,
                      caseless};
}

std::optional<size_t> max_match_bytes(const std::string& pattern) {
  return WidthReader(pattern).read();
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
      out += static_cast<char>(c);
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
      cls += static_cast<char>(m);
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
