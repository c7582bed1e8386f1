#include "policy/detection/pattern_runs.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "common/wire_text.h"
#include "policy/detection/pattern_facts.h"

namespace llmtap::policy {
namespace {

// The pattern as a tree of what each part can match, byte by byte. A `Bytes` leaf is one byte
// from `bytes`, or, when `wide`, possibly anything else too (a code point of several bytes, a
// byte the reader did not model): never inside a class.
struct Node {
  enum class Kind { kEmpty, kBytes, kConcat, kAlternation, kRepeat };
  Kind kind = Kind::kEmpty;
  ByteSet bytes;
  bool wide = false;
  size_t min_count = 0;  // kRepeat: fewest repetitions
  std::vector<Node> kids;
};

Node empty() { return {}; }
Node wide_byte() {
  Node n;
  n.kind = Node::Kind::kBytes;
  n.wide = true;
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
      if (c == '*' || c == '?') {
        ++pos_;
      } else if (c == '+') {
        ++pos_;
        min_count = 1;
      } else if (c == '{') {
        size_t k = pos_ + 1;
        size_t lo = 0;
        bool has_lo = false;
        while (k < p_.size() && std::isdigit(static_cast<unsigned char>(p_[k]))) {
          lo = std::min<size_t>(lo * 10 + static_cast<size_t>(p_[k++] - '0'), 1u << 20);
          has_lo = true;
        }
        if (k < p_.size() && p_[k] == ',') {
          ++k;
          while (k < p_.size() && std::isdigit(static_cast<unsigned char>(p_[k]))) ++k;
        }
        if (!has_lo || k >= p_.size() || p_[k] != '}') return n;  // a literal '{'
        pos_ = k + 1;
        min_count = lo;
      } else {
        return n;
      }
      if (pos_ < p_.size() && p_[pos_] == '?') ++pos_;  // lazy
      Node r;
      r.kind = Node::Kind::kRepeat;
      r.min_count = min_count;
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
        return wide_byte();
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
    if (c >= 0x80) return wide_byte();  // a byte of a non-ASCII literal (maybe case-folded)
    ByteSet s;
    s.set(c);
    if (caseless_ && std::isalpha(c)) {
      const unsigned char lower = static_cast<unsigned char>(std::tolower(c));
      if (lower == 'k' || lower == 's') return wide_byte();  // also U+212A, U+017F
      s.set(lower);
      s.set(static_cast<unsigned char>(std::toupper(c)));
    }
    return byte_set(s);
  }

  Node group() {
    const auto opening = read_group_opening(p_, pos_, caseless_);
    if (!opening) return fail();
    if (opening->kind == GroupOpening::Kind::kFlagsOnly) {  // the rest of the enclosing group
      caseless_ = opening->caseless;
      return empty();
    }
    const bool saved = caseless_;
    caseless_ = opening->caseless;
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
      case 'C':
        return wide_byte();
      case 'p':
      case 'P':
        if (pos_ < p_.size() && p_[pos_] == '{') {
          const size_t close = p_.find('}', pos_);
          if (close == std::string_view::npos) return fail();
          pos_ = close + 1;
        } else {
          ++pos_;
        }
        return wide_byte();
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
        return *cp < 0x80 ? literal(static_cast<unsigned char>(*cp)) : wide_byte();
      }
      default:
        if (const auto b = control_escape(e)) return literal(*b);
        if (std::isdigit(static_cast<unsigned char>(e))) {  // octal: not modelled
          while (pos_ < p_.size() && std::isdigit(static_cast<unsigned char>(p_[pos_]))) ++pos_;
          return wide_byte();
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
  // `set` gets the bytes of a Perl class member; `wide` is set for what cannot be modelled.
  std::optional<unsigned char> class_member(ByteSet& set, bool& wide) {
    const char c = p_[pos_++];
    if (static_cast<unsigned char>(c) >= 0x80) {
      wide = true;
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
    if (pos_ < p_.size() && p_[pos_] == '^') {
      ++pos_;
      wide = true;  // a negated class: not modelled
    }
    bool first = true;
    while (!failed_ && pos_ < p_.size() && (p_[pos_] != ']' || first)) {
      first = false;
      if (p_.substr(pos_, 2) == "[:") {  // POSIX classes: not modelled
        const size_t close = p_.find(":]", pos_ + 2);
        if (close == std::string_view::npos) return fail();
        pos_ = close + 2;
        wide = true;
        continue;
      }
      const auto lo = class_member(set, wide);
      if (failed_) return fail();
      if (!lo) continue;
      unsigned hi = *lo;
      if (pos_ + 1 < p_.size() && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        ByteSet ignored;
        const auto h = class_member(ignored, wide);
        if (failed_) return fail();
        if (!h) {
          wide = true;  // a range to a non-ASCII or class end
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
        if (b == 'k' || b == 's') wide = true;  // also U+212A, U+017F
        set.set(b);
        set.set(upper);
      }
    }
    Node n = byte_set(set);
    n.wide = wide;
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

// What every match of a part guarantees about runs of one class's bytes.
struct Runs {
  uint32_t min_length = 0;  // fewest bytes of a match
  bool all_in_class = true;  // every byte of every match is in the class
  uint32_t prefix = 0;       // each match starts with at least this many class bytes
  uint32_t suffix = 0;       // and ends with as many
  uint32_t inner = 0;        // and holds a run at least this long somewhere
};

constexpr uint32_t kCap = 1u << 20;
uint32_t sat(uint64_t v) { return static_cast<uint32_t>(std::min<uint64_t>(v, kCap)); }

Runs then(const Runs& a, const Runs& b) {
  Runs r;
  r.min_length = sat(uint64_t{a.min_length} + b.min_length);
  r.all_in_class = a.all_in_class && b.all_in_class;
  r.prefix = a.all_in_class ? sat(uint64_t{a.min_length} + b.prefix) : a.prefix;
  r.suffix = b.all_in_class ? sat(uint64_t{b.min_length} + a.suffix) : b.suffix;
  r.inner = std::max({a.inner, b.inner, sat(uint64_t{a.suffix} + b.prefix), r.prefix, r.suffix});
  return r;
}

Runs either(const Runs& a, const Runs& b) {
  return {std::min(a.min_length, b.min_length), a.all_in_class && b.all_in_class,
          std::min(a.prefix, b.prefix), std::min(a.suffix, b.suffix), std::min(a.inner, b.inner)};
}

Runs runs_of(const Node& n, const ByteSet& cls) {
  switch (n.kind) {
    case Node::Kind::kEmpty:
      return {};
    case Node::Kind::kBytes: {
      const bool in = !n.wide && n.bytes.any() && (n.bytes & ~cls).none();
      const uint32_t v = in ? 1 : 0;
      return {1, in, v, v, v};
    }
    case Node::Kind::kConcat: {
      Runs r;
      for (const Node& k : n.kids) r = then(r, runs_of(k, cls));
      return r;
    }
    case Node::Kind::kAlternation: {
      Runs r = runs_of(n.kids.front(), cls);
      for (size_t i = 1; i < n.kids.size(); ++i) r = either(r, runs_of(n.kids[i], cls));
      return r;
    }
    case Node::Kind::kRepeat: {
      const Runs one = runs_of(n.kids.front(), cls);
      if (n.min_count == 0) return {0, one.all_in_class, 0, 0, 0};  // may be empty
      // X{n,m} holds X^n as its first part; a longer match only lengthens its runs. A part
      // wholly of the class makes one run of n of it; any other is as good as X^2 from n = 2.
      if (one.all_in_class) {
        const uint32_t v = sat(uint64_t{one.min_length} * n.min_count);
        return {v, true, v, v, v};
      }
      Runs r = one;
      if (n.min_count >= 2) r = then(one, one);
      return r;
    }
  }
  return {};
}

}  // namespace

bool guaranteed_runs(std::string_view pattern, const ByteSet* classes, size_t count,
                     uint16_t* out) {
  std::fill(out, out + count, uint16_t{0});
  const auto tree = TreeReader(pattern).read();
  if (!tree) return false;
  for (size_t c = 0; c < count; ++c) {
    const Runs r = runs_of(*tree, classes[c]);
    out[c] = static_cast<uint16_t>(std::min<uint32_t>(r.inner, UINT16_MAX));
  }
  return true;
}

}  // namespace llmtap::policy
