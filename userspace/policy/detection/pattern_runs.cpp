#include "policy/detection/pattern_runs.h"

#include <algorithm>

#include "policy/detection/pattern_tree.h"

namespace llmtap::policy {
namespace {

using Node = PatternNode;

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
  const auto tree = read_pattern_tree(pattern);
  if (!tree) return false;
  for (size_t c = 0; c < count; ++c) {
    const Runs r = runs_of(*tree, classes[c]);
    out[c] = static_cast<uint16_t>(std::min<uint32_t>(r.inner, UINT16_MAX));
  }
  return true;
}

}  // namespace llmtap::policy
