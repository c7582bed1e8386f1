#include "policy/detection/pattern_tree.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "policy/detection/pattern_facts.h"

namespace llmtap::policy {
namespace {

using Node = PatternNode;

uint32_t utf8_length(unsigned long cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

Node empty() { return {}; }
Node wide_byte(uint32_t width) {
  Node n;
  n.kind = Node::Kind::kBytes;
  n.wide = true;
  n.width = width;
  return n;
}
Node byte_set(const ByteSet& bytes) {
  Node n;
  n.kind = Node::Kind::kBytes;
  n.bytes = bytes;
  return n;
}

void add_range(ByteSet& set, unsigned lo, unsigned hi) {
  for (unsigned b = lo; b <= hi && b < 256; ++b) set.set(b);
}

// RE2's Perl classes are ASCII. \s is [\t\n\f\r ]; \v is added: over-including a byte in a
// leaf only lowers the guarantees.
ByteSet perl_class(char e) {
  ByteSet s;
  switch (e) {
    case 'd':
      add_range(s, '0', '9');
      break;
    case 'w':
      add_range(s, '0', '9');
      add_range(s, 'A', 'Z');
      add_range(s, 'a', 'z');
      s.set('_');
      break;
    case 's':
      add_range(s, '\t', '\r');
      s.set(' ');
      break;
    default:
      break;
  }
  return s;
}

std::optional<unsigned char> control_escape(char e) {
  switch (e) {
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case 'r':
      return '\r';
    case 'f':
      return '\f';
    case 'v':
      return '\v';
    case 'a':
      return '\a';
    default:
      return std::nullopt;
  }
}

// Recursive descent over RE2 syntax. Anything it does not model becomes a wide leaf (or
// fails the whole reading, which guarantees nothing).
class TreeReader {
 public:
  explicit TreeReader(std::string_view p) : p_(p) {}

  std::optional<Node> read() {
    Node n = alternation(false);
    if (failed_ || pos_ != p_.size()) return std::nullopt;
    return n;
  }

 private:
  static constexpr size_t kMaxDepth = 200;
  static constexpr size_t kMaxCount = size_t{1} << 30;  // larger repetition counts saturate

  Node alternation(bool in_group) {
    if (++depth_ > kMaxDepth) return fail();
    const bool saved = caseless_;
    Node alt;
    alt.kind = Node::Kind::kAlternation;
    while (!failed_) {
      alt.kids.push_back(concatenation());
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
    --depth_;
    if (alt.kids.size() == 1) return std::move(alt.kids.front());
    return alt;
  }

  Node concatenation() {
    Node cat;
    cat.kind = Node::Kind::kConcat;
    while (!failed_ && pos_ < p_.size() && p_[pos_] != '|' && p_[pos_] != ')') {
      Node a = atom();
      if (failed_) break;
      cat.kids.push_back(quantified(std::move(a)));
    }
    return cat;
  }

  Node quantified(Node n) {
    while (pos_ < p_.size() && !failed_) {
      const char c = p_[pos_];
      size_t min_count = 0;
      std::optional<size_t> max_count;  // none: unbounded
      if (c == '*') {
        ++pos_;
      } else if (c == '?') {
        ++pos_;
        max_count = 1;
      } else if (c == '+') {
        ++pos_;
        min_count = 1;
      } else if (c == '{') {
        size_t k = pos_ + 1;
        size_t lo = 0, hi = 0;
        bool has_lo = false, comma = false, has_hi = false;
        auto digits = [&](size_t& v, bool& has) {
          while (k < p_.size() && std::isdigit(static_cast<unsigned char>(p_[k]))) {
            v = std::min<size_t>(v * 10 + static_cast<size_t>(p_[k++] - '0'), kMaxCount);
            has = true;
          }
        };
        digits(lo, has_lo);
        if (k < p_.size() && p_[k] == ',') {
          comma = true;
          ++k;
          digits(hi, has_hi);
        }
        if (!has_lo || k >= p_.size() || p_[k] != '}') return n;  // a literal '{'
        pos_ = k + 1;
        min_count = lo;
        if (!comma) max_count = lo;
        else if (has_hi) max_count = hi;
      } else {
        return n;
      }
      if (pos_ < p_.size() && p_[pos_] == '?') ++pos_;  // lazy
      Node r;
      r.kind = Node::Kind::kRepeat;
      r.min_count = min_count;
      r.max_count = max_count;
      r.kids.push_back(std::move(n));
      n = std::move(r);
    }
    return n;
  }

  Node atom() {
    const char c = p_[pos_++];
    switch (c) {
      case '(':
        return group();
      case '[':
        return char_class();
      case '.':
        return wide_byte(4);
      case '^':
      case '$':
        return empty();
      case '\\':
        return escape();
      default:
        return literal(static_cast<unsigned char>(c));
    }
  }

  Node literal(unsigned char c) {
    if (c >= 0x80) return wide_byte(1);  // a byte of a non-ASCII literal
    ByteSet s;
    s.set(c);
    if (caseless_ && std::isalpha(c)) {
      const unsigned char lower = static_cast<unsigned char>(std::tolower(c));
      if (lower == 'k' || lower == 's') return wide_byte(3);  // also U+212A, U+017F
      s.set(lower);
      s.set(static_cast<unsigned char>(std::toupper(c)));
    }
    return byte_set(s);
  }

  // After '(': a named group "(?P<name>" / "(?<name>", flags for the rest of the enclosing
  // group "(?i)", flags for its own "(?i:", or a plain group.
  Node group() {
    bool caseless = caseless_;
    if (pos_ < p_.size() && p_[pos_] == '?') {
      ++pos_;
      if (pos_ < p_.size() && (p_[pos_] == 'P' || p_[pos_] == '<')) {
        const size_t close = p_.find('>', pos_);
        if (close == std::string_view::npos) return fail();
        pos_ = close + 1;
      } else {
        bool on = true;
        while (pos_ < p_.size() && p_[pos_] != ')' && p_[pos_] != ':') {
          const char f = p_[pos_++];
          if (f == '-')
            on = false;
          else if (f == 'i')
            caseless = on;
          else if (f != 's' && f != 'm' && f != 'U')
            return fail();
        }
        if (pos_ >= p_.size()) return fail();
        if (p_[pos_++] == ')') {
          caseless_ = caseless;
          return empty();
        }
      }
    }
    const bool saved = caseless_;
    caseless_ = caseless;
    Node n = alternation(true);
    caseless_ = saved;
    return n;
  }

  Node escape() {
    if (pos_ >= p_.size()) return fail();
    const char e = p_[pos_++];
    switch (e) {
      case 'd':
      case 'w':
      case 's':
        return byte_set(perl_class(e));
      case 'D':
      case 'W':
      case 'S':
        return wide_byte(4);
      case 'C':
        return wide_byte(1);
      case 'p':
      case 'P':
        if (pos_ < p_.size() && p_[pos_] == '{') {
          const size_t close = p_.find('}', pos_);
          if (close == std::string_view::npos) return fail();
          pos_ = close + 1;
        } else {
          ++pos_;
        }
        return wide_byte(4);
      case 'b':
      case 'B':
      case 'A':
      case 'z':
        return empty();
      case 'Q': {
        const size_t close = p_.find("\\E", pos_);
        const size_t end = close == std::string_view::npos ? p_.size() : close;
        Node cat;
        cat.kind = Node::Kind::kConcat;
        for (size_t k = pos_; k < end; ++k) {
          cat.kids.push_back(literal(static_cast<unsigned char>(p_[k])));
        }
        pos_ = close == std::string_view::npos ? p_.size() : close + 2;
        return cat;
      }
      case 'x': {
        const auto cp = code_point();
        if (!cp) return fail();
        return *cp < 0x80 ? literal(static_cast<unsigned char>(*cp)) : wide_byte(utf8_length(*cp));
      }
      default:
        if (const auto b = control_escape(e)) return literal(*b);
        if (std::isdigit(static_cast<unsigned char>(e))) {  // octal: not modelled
          while (pos_ < p_.size() && std::isdigit(static_cast<unsigned char>(p_[pos_]))) ++pos_;
          return wide_byte(1);
        }
        if (std::isalnum(static_cast<unsigned char>(e))) return fail();  // unknown escape
        return literal(static_cast<unsigned char>(e));                    // \. \- \\ ...
    }
  }

  // "\x{HHHH}" or "\xHH", after the 'x'.
  std::optional<unsigned long> code_point() {
    size_t i = pos_ - 1;
    const auto cp = read_hex_escape(p_, i);
    if (cp) pos_ = i + 1;
    return cp;
  }

  // One member's byte (a literal or an escape), or nullopt when it is not one ASCII byte.
  // `set` gets the bytes of a Perl class member; `wide` is set for what cannot be modelled;
  // `width` grows to the most bytes the member can take.
  std::optional<unsigned char> class_member(ByteSet& set, bool& wide, uint32_t& width) {
    const char c = p_[pos_++];
    if (static_cast<unsigned char>(c) >= 0x80) {
      wide = true;
      width = 4;  // part of a non-ASCII member
      return std::nullopt;
    }
    if (c != '\\') return static_cast<unsigned char>(c);
    if (pos_ >= p_.size()) {
      failed_ = true;
      return std::nullopt;
    }
    const char e = p_[pos_++];
    if (e == 'd' || e == 'w' || e == 's') {
      set |= perl_class(e);
      return std::nullopt;
    }
    if (e == 'D' || e == 'W' || e == 'S' || e == 'p' || e == 'P' || e == 'C') {
      if ((e == 'p' || e == 'P') && pos_ < p_.size()) {
        if (p_[pos_] == '{') {
          const size_t close = p_.find('}', pos_);
          if (close == std::string_view::npos) {
            failed_ = true;
            return std::nullopt;
          }
          pos_ = close + 1;
        } else {
          ++pos_;
        }
      }
      wide = true;
      if (e != 'C') width = 4;
      return std::nullopt;
    }
    if (e == 'x') {
      const auto cp = code_point();
      if (!cp) {
        failed_ = true;
        return std::nullopt;
      }
      if (*cp >= 0x80) {
        wide = true;
        width = std::max(width, utf8_length(*cp));
        return std::nullopt;
      }
      return static_cast<unsigned char>(*cp);
    }
    if (const auto b = control_escape(e)) return *b;
    if (std::isalnum(static_cast<unsigned char>(e))) {
      wide = true;  // octal or unknown: not modelled
      while (pos_ < p_.size() && std::isdigit(static_cast<unsigned char>(p_[pos_]))) ++pos_;
      return std::nullopt;
    }
    return static_cast<unsigned char>(e);
  }

  Node char_class() {
    ByteSet set;
    bool wide = false;
    uint32_t width = 1;
    if (pos_ < p_.size() && p_[pos_] == '^') {
      ++pos_;
      wide = true;  // a negated class: any code point outside the set
      width = 4;
    }
    bool first = true;
    while (!failed_ && pos_ < p_.size() && (p_[pos_] != ']' || first)) {
      first = false;
      if (p_.substr(pos_, 2) == "[:") {  // POSIX classes: not modelled
        const size_t close = p_.find(":]", pos_ + 2);
        if (close == std::string_view::npos) return fail();
        if (p_[pos_ + 2] == '^') width = 4;
        pos_ = close + 2;
        wide = true;
        continue;
      }
      const auto lo = class_member(set, wide, width);
      if (failed_) return fail();
      if (!lo) continue;
      unsigned hi = *lo;
      if (pos_ + 1 < p_.size() && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        ByteSet ignored;
        const auto h = class_member(ignored, wide, width);
        if (failed_) return fail();
        if (!h) {
          wide = true;  // a range to a non-ASCII code point
          continue;
        }
        hi = *h;
      }
      add_range(set, *lo, hi);
    }
    if (pos_ >= p_.size()) return fail();
    ++pos_;  // ']'
    if (caseless_) {
      for (unsigned b = 'a'; b <= 'z'; ++b) {
        const unsigned upper = b - 'a' + 'A';
        if (!set.test(b) && !set.test(upper)) continue;
        if (b == 'k' || b == 's') {  // also U+212A, U+017F
          wide = true;
          width = std::max<uint32_t>(width, 3);
        }
        set.set(b);
        set.set(upper);
      }
    }
    Node n = byte_set(set);
    n.wide = wide;
    n.width = width;
    return n;
  }

  Node fail() {
    failed_ = true;
    return empty();
  }

  std::string_view p_;
  size_t pos_ = 0;
  size_t depth_ = 0;
  bool caseless_ = false;
  bool failed_ = false;
};

}  // namespace

std::optional<PatternNode> read_pattern_tree(std::string_view pattern) {
  return TreeReader(pattern).read();
}

}  // namespace llmtap::policy
