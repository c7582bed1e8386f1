#include "policy/detection/content_scanner.h"

#include <hs/hs.h>
#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <climits>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>

#include "common/sha256.h"
#include "policy/detection/byte_class_runs.h"
#include "policy/detection/pattern_facts.h"
#include "policy/detection/pattern_runs.h"
#include "policy/detection/pii_validators.h"
#include "policy/detection/scan_windows.h"

namespace llmtap::policy {
namespace {

struct HsDatabaseDeleter {
  void operator()(hs_database_t* db) const { hs_free_database(db); }
};
struct HsScratchDeleter {
  void operator()(hs_scratch_t* s) const { hs_free_scratch(s); }
};
using HsDatabase = std::unique_ptr<hs_database_t, HsDatabaseDeleter>;
using HsScratch = std::unique_ptr<hs_scratch_t, HsScratchDeleter>;

bool contains_case_insensitive(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [](char a, char b) {
                       return std::tolower(static_cast<unsigned char>(a)) ==
                              std::tolower(static_cast<unsigned char>(b));
                     }) != haystack.end();
}

// How a detector's candidates are found before RE2 confirms them.
enum class Gate {
  kAtoms,      // literals FilteredRE2 derives from the pattern, any match must contain them
  kAnchors,    // the spec's anchors (bytes every match contains)
  kKeywords,   // the spec's keywords (one must be near every match)
  kHyperscan,  // no literal at all: Hyperscan matches (a byte form of) the pattern itself
  kNone,       // nothing to gate on: RE2 reads every text
};

constexpr std::string_view gate_name(Gate g) {
  switch (g) {
    case Gate::kAtoms:
      return "literals";
    case Gate::kAnchors:
      return "anchors";
    case Gate::kKeywords:
      return "keywords";
    case Gate::kHyperscan:
      return "hyperscan-pattern";
    case Gate::kNone:
      return "none";
  }
  return "none";
}

// A detector ready to confirm candidates.
struct CompiledDetector {
  DetectorSpec spec;
  // The pattern alone in a FilteredRE2: its atoms, its prefilter formula over them, and the
  // compiled RE2 that confirms.
  std::unique_ptr<re2::FilteredRE2> filter;
  const RE2* pattern = nullptr;
  std::vector<std::string> atoms;  // the filter's, lowercase
  // Per atom: its hit alone satisfies the prefilter formula (which is monotone: any set of
  // atoms holding it does too). Scans then ask FilteredRE2, which allocates on every call,
  // only about sets of atoms none of which suffices alone.
  std::vector<uint8_t> atom_suffices;
  // For a detector of 2 to 32 atoms, the formula's answers for the sets of atoms last asked
  // about (texts repeat the same words): kAtomSetAnswers entries, direct-mapped by the set
  // (bit a: atom a seen), each (set + 1) << 1 | holds, 0 when empty. Every thread that asks
  // about a set writes the same answer, and an entry is one word: relaxed atomics suffice.
  std::unique_ptr<std::atomic<uint64_t>[]> atom_set_answers;
  std::vector<std::unique_ptr<RE2>> allow;
  Gate gate = Gate::kNone;
  // The longest a match can be, when known: then only windows around the triggers' hits are
  // read, not the whole text.
  std::optional<size_t> max_width;
  bool windowed = false;
};

constexpr size_t kMaxAtomsRemembered = 32;
constexpr size_t kAtomSetAnswers = 64;

// Whether the detector's prefilter formula holds on `atoms` (its own indices, ascending):
// remembered when it can be, else FilteredRE2's answer (`passed` is scratch).
bool formula_holds(const CompiledDetector& d, const std::vector<int>& atoms,
                   std::vector<int>& passed) {
  if (d.atom_set_answers) {
    uint64_t set = 0;
    for (const int a : atoms) set |= uint64_t{1} << a;
    std::atomic<uint64_t>& entry =
        d.atom_set_answers[(set * 0x9E3779B97F4A7C15ULL) >> 58];  // 64 entries: 6 bits
    const uint64_t known = entry.load(std::memory_order_relaxed);
    if ((known >> 1) == set + 1) return (known & 1) != 0;
    passed.clear();
    d.filter->AllPotentials(atoms, &passed);
    entry.store((set + 1) << 1 | (passed.empty() ? 0 : 1), std::memory_order_relaxed);
    return !passed.empty();
  }
  passed.clear();
  d.filter->AllPotentials(atoms, &passed);
  return !passed.empty();
}

// One detector's use of a literal of the literal database.
struct LiteralUse {
  uint32_t detector = 0;
  int atom = -1;  // the literal's index among the detector's own atoms (kAtoms gate)
  TriggerReach reach;
  bool opens_window = false;  // its hits bound where the detector can match
};

// Which of a detector's atoms to open windows around: a set every match holds one of (the
// prefilter formula fails on all atoms but these), preferring long atoms, which are rarer:
// for "(reveal|print|show) ... (system prompt|initial instructions)" the second group. The
// formula is FilteredRE2's, monotone over the atoms, and probed rather than read.
std::vector<uint8_t> window_atoms(const CompiledDetector& d) {
  const size_t n = d.atoms.size();
  std::vector<uint8_t> in_set(n, 0);
  auto formula_holds_without_set = [&] {
    std::vector<int> rest;
    for (size_t a = 0; a < n; ++a) {
      if (!in_set[a]) rest.push_back(static_cast<int>(a));
    }
    std::vector<int> passed;
    d.filter->AllPotentials(rest, &passed);
    return !passed.empty();
  };
  std::vector<size_t> by_length(n);
  for (size_t a = 0; a < n; ++a) by_length[a] = a;
  std::stable_sort(by_length.begin(), by_length.end(),
                   [&](size_t x, size_t y) { return d.atoms[x].size() > d.atoms[y].size(); });
  // Take atoms, longest first, until the formula fails on the rest...
  for (const size_t a : by_length) {
    in_set[a] = 1;
    if (!formula_holds_without_set()) break;
  }
  // ...then give back every one the set does without, shortest first.
  for (auto it = by_length.rbegin(); it != by_length.rend(); ++it) {
    if (!in_set[*it]) continue;
    in_set[*it] = 0;
    if (formula_holds_without_set()) in_set[*it] = 1;
  }
  return in_set;
}

// For a detector whose pattern Hyperscan cannot take.
Gate fallback_gate(const CompiledDetector& d) {
  return d.spec.keywords.empty() ? Gate::kNone : Gate::kKeywords;
}

RE2::Options pattern_options() {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(64 << 20);
  return options;
}

// Bytes added at each end of a window. A match that reaches a window's edge is longer than
// the pattern's computed width allows (a width Hyperscan and RE2 see differently): the
// detector is then read over the whole text instead.
constexpr uint32_t kWindowSlack = 8;
// Trigger hits kept per scan, and windows per detector, before reading whole instead.
constexpr size_t kMaxTriggerHits = 1 << 20;
constexpr size_t kMaxWindowsPerDetector = 1 << 14;

TriggerReach reach_of(uint32_t detector, size_t width, size_t trigger_length) {
  const auto w = static_cast<uint32_t>(std::min<size_t>(width, UINT32_MAX / 4));
  const auto len = static_cast<uint32_t>(std::min<size_t>(trigger_length, w));
  return {detector, w + kWindowSlack, w - len + kWindowSlack};
}

struct TriggerHit {
  uint32_t trigger;  // literal id, or literal count + detector index for the pattern database
  uint32_t end;
};

HsDatabase compile_literals(const std::vector<std::string>& literals,
                            const std::vector<unsigned>& flags) {
  std::vector<const char*> data;
  std::vector<size_t> lengths;
  std::vector<unsigned> ids;
  for (size_t i = 0; i < literals.size(); ++i) {
    data.push_back(literals[i].data());
    lengths.push_back(literals[i].size());
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_lit_multi(data.data(), flags.data(), ids.data(), lengths.data(),
                           static_cast<unsigned>(data.size()), HS_MODE_BLOCK, nullptr, &db,
                           &error) != HS_SUCCESS) {
    const std::string message = error != nullptr ? error->message : "unknown error";
    hs_free_compile_error(error);
    throw std::runtime_error("Hyperscan cannot compile the detectors' literals: " + message);
  }
  return HsDatabase(db);
}

}  // namespace

struct ContentScanner::Impl {
  std::vector<CompiledDetector> detectors;
  std::vector<DetectorSpec> specs;
  // The literal database: every detector's atoms (caseless), anchors (exact) and keywords
  // (caseless), each distinct literal once, with the detectors that use it.
  HsDatabase literals;
  std::vector<std::vector<LiteralUse>> literal_uses;
  std::vector<uint8_t> literal_positions_wanted;  // some use opens windows: every hit counts
  // The pattern databases: one per detector with no literal, matched by Hyperscan itself
  // (id: index in `detectors`), each passed over a text only when the text has the runs of
  // bytes every match of its pattern holds (pattern_runs.h).
  struct PatternDatabase {
    HsDatabase db;
    ClassRuns runs_needed{};
  };
  std::vector<PatternDatabase> patterns;
  RunThresholds run_thresholds;  // per class, the runs the pattern databases need
  size_t database_bytes = 0;
  ScannerLimits limits;
  // Detectors every scan confirms (no gate at all), and those never read in windows: the
  // per-scan pass over every detector, precomputed for the usual case.
  std::vector<uint32_t> ungated;
  std::vector<uint32_t> unwindowed;

  mutable std::mutex scratch_mutex;
  mutable std::vector<HsScratch> idle_scratch;  // one per concurrent scan, reused

  HsScratch take_scratch() const {
    {
      std::lock_guard lock(scratch_mutex);
      if (!idle_scratch.empty()) {
        HsScratch s = std::move(idle_scratch.back());
        idle_scratch.pop_back();
        return s;
      }
    }
    hs_scratch_t* s = nullptr;
    auto grow = [&](const hs_database_t* db) {
      if (db != nullptr && hs_alloc_scratch(db, &s) != HS_SUCCESS) {
        if (s != nullptr) hs_free_scratch(s);
        throw std::bad_alloc();
      }
    };
    grow(literals.get());
    for (const PatternDatabase& p : patterns) grow(p.db.get());
    return HsScratch(s);
  }
  void give_back(HsScratch s) const {
    if (!s) return;
    std::lock_guard lock(scratch_mutex);
    idle_scratch.push_back(std::move(s));
  }

  void build_literal_database();
  void build_pattern_database(std::vector<DetectorProblem>* problems);

  // Confirms candidates of `d` in text[begin, end). False when a match reaches a window edge
  // that is not the text's (the window was too narrow).
  bool confirm(const CompiledDetector& d, std::string_view text, size_t begin, size_t end,
               std::vector<Detection>& out, size_t& bytes_read) const;
};

namespace {

bool validated(const DetectorSpec& spec, std::string_view secret, std::string_view context) {
  switch (spec.validator) {
    case Validator::kNone:
      return true;
    case Validator::kLuhn:
      return valid_payment_card(secret);
    case Validator::kIban:
      return valid_iban(secret);
    case Validator::kUsSsn:
      return valid_us_ssn(secret);
    case Validator::kEmail:
      return valid_email(secret);
    case Validator::kPhone:
      return valid_phone(secret, context);
    case Validator::kIpAddress:
      return valid_public_ip(secret);
  }
  return false;
}

DetectorProblem problem(const DetectorSpec& d, std::string message, bool fatal) {
  return {d.id, d.source, d.line, std::move(message), fatal};
}

}  // namespace

bool ContentScanner::Impl::confirm(const CompiledDetector& d, std::string_view text, size_t begin,
                                   size_t end, std::vector<Detection>& out,
                                   size_t& bytes_read) const {
  const RE2& re = *d.pattern;
  const int groups = re.NumberOfCapturingGroups();
  thread_local std::vector<re2::StringPiece> sub;  // reused: windows are many and small
  sub.assign(static_cast<size_t>(groups) + 1, re2::StringPiece());
  const re2::StringPiece whole_text(text.data(), text.size());
  bytes_read += end - begin;
  size_t pos = begin;
  while (pos < end) {
    if (!re.Match(whole_text, pos, end, RE2::UNANCHORED, sub.data(),
                  static_cast<int>(sub.size()))) {
      break;
    }
    const re2::StringPiece whole = sub[0];
    const size_t match_begin = static_cast<size_t>(whole.data() - text.data());
    const size_t match_end = match_begin + whole.size();
    if ((match_begin == begin && begin > 0) || (match_end == end && end < text.size())) {
      return false;
    }
    pos = whole.empty() ? match_begin + 1 : match_end;
    re2::StringPiece secret = whole;
    if (d.spec.secret_group > 0 && d.spec.secret_group <= groups) {
      secret = sub[static_cast<size_t>(d.spec.secret_group)];
    } else if (d.spec.secret_group < 0) {  // gitleaks: the first group that matched
      for (int g = 1; g <= groups; ++g) {
        if (!sub[static_cast<size_t>(g)].empty()) {
          secret = sub[static_cast<size_t>(g)];
          break;
        }
      }
    }
    if (secret.empty() || secret.data() == nullptr) continue;
    const std::string_view s(secret.data(), secret.size());
    const size_t ctx_begin =
        match_begin > limits.context_bytes ? match_begin - limits.context_bytes : 0;
    const size_t ctx_end = std::min(text.size(), match_end + limits.context_bytes);
    const std::string_view context = text.substr(ctx_begin, ctx_end - ctx_begin);

    if (!d.spec.keywords.empty() &&
        std::none_of(d.spec.keywords.begin(), d.spec.keywords.end(),
                     [&](const std::string& k) { return contains_case_insensitive(context, k); })) {
      continue;
    }
    if (s.size() < d.spec.min_length) continue;
    if (d.spec.min_entropy > 0 && shannon_entropy(s) < d.spec.min_entropy) continue;
    if (std::any_of(d.spec.stopwords.begin(), d.spec.stopwords.end(),
                    [&](const std::string& w2) { return contains_case_insensitive(s, w2); })) {
      continue;
    }
    if (std::any_of(d.allow.begin(), d.allow.end(), [&](const std::unique_ptr<RE2>& a) {
          return RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *a);
        })) {
      continue;
    }
    if (!validated(d.spec, s, context)) continue;

    Detection det;
    det.detector_id = d.spec.id;
    det.category = d.spec.category;
    det.severity = d.spec.severity;
    det.confidence = d.spec.confidence;
    det.offset = static_cast<size_t>(s.data() - text.data());
    det.length = s.size();
    det.redacted = redact_secret(s);
    det.fingerprint = secret_fingerprint(s);
    out.push_back(std::move(det));
  }
  return true;
}

// Every distinct literal once: the atoms of detectors gated by them (a detector of bounded
// width opens a window around each hit of any of its atoms: every match holds at least one),
// anchors and keywords (a keyword need only be within `context_bytes` of the match).
void ContentScanner::Impl::build_literal_database() {
  std::map<std::pair<std::string, unsigned>, uint32_t> ids;
  std::vector<std::string> texts;
  std::vector<unsigned> flags;
  auto literal = [&](const std::string& text, unsigned flag) {
    const auto [it, added] = ids.try_emplace({text, flag}, static_cast<uint32_t>(texts.size()));
    if (added) {
      texts.push_back(text);
      flags.push_back(flag);
      literal_uses.emplace_back();
    }
    return it->second;
  };
  for (size_t i = 0; i < detectors.size(); ++i) {
    CompiledDetector& d = detectors[i];
    const auto di = static_cast<uint32_t>(i);
    d.windowed = d.max_width.has_value() && d.gate != Gate::kNone;
    const size_t width = d.max_width.value_or(0);
    if (d.gate == Gate::kAtoms) {
      const auto& atoms = d.atoms;
      const std::vector<uint8_t> opens = window_atoms(d);
      for (size_t a = 0; a < atoms.size(); ++a) {
        const uint32_t id = literal(atoms[a], HS_FLAG_CASELESS);
        literal_uses[id].push_back({di, static_cast<int>(a), reach_of(di, width, atoms[a].size()),
                                    d.windowed && opens[a] != 0});
      }
    } else if (d.gate == Gate::kAnchors || d.gate == Gate::kKeywords) {
      const bool anchors = d.gate == Gate::kAnchors;
      for (const auto& text : anchors ? d.spec.anchors : d.spec.keywords) {
        if (text.empty()) continue;
        const uint32_t id = literal(text, anchors ? 0u : static_cast<unsigned>(HS_FLAG_CASELESS));
        literal_uses[id].push_back(
            {di, -1, reach_of(di, width + (anchors ? 0 : limits.context_bytes), text.size()),
             d.windowed});
      }
    }
  }
  literal_positions_wanted.assign(texts.size(), 0);
  for (size_t id = 0; id < texts.size(); ++id) {
    for (const LiteralUse& use : literal_uses[id]) {
      if (use.opens_window) literal_positions_wanted[id] = 1;
    }
    // A literal whose hits open no window need only be seen once.
    if (!literal_positions_wanted[id]) flags[id] |= HS_FLAG_SINGLEMATCH;
  }
  if (!texts.empty()) literals = compile_literals(texts, flags);
}

// Detectors with no literal and no keyword: a database of each one's pattern (in a byte form
// Hyperscan reads), each match end bounding a window, or, for a pattern of unbounded width,
// its first match sending the detector to RE2 whole. One database per pattern, not one for
// all: a scan passes only those whose runs the text has, and even all of them apart cost less
// than together (bench/detector_gate_bench). A pattern Hyperscan refuses is left to RE2 alone.
void ContentScanner::Impl::build_pattern_database(std::vector<DetectorProblem>* problems) {
  for (size_t i = 0; i < detectors.size(); ++i) {
    CompiledDetector& d = detectors[i];
    if (d.gate != Gate::kHyperscan) continue;
    const auto bytes = hyperscan_byte_pattern(d.spec.pattern);
    if (!bytes) {
      d.gate = fallback_gate(d);
      continue;
    }
    const unsigned flags = d.max_width ? 0u : static_cast<unsigned>(HS_FLAG_SINGLEMATCH);
    const auto id = static_cast<unsigned>(i);
    const char* expression = bytes->c_str();
    hs_database_t* db = nullptr;
    hs_compile_error_t* error = nullptr;
    if (hs_compile_multi(&expression, &flags, &id, 1, HS_MODE_BLOCK, nullptr, &db, &error) !=
        HS_SUCCESS) {
      const std::string message = error != nullptr ? error->message : "unknown error";
      hs_free_compile_error(error);
      d.gate = fallback_gate(d);
      if (problems != nullptr && d.gate == Gate::kNone) {
        problems->push_back(problem(d.spec, "Hyperscan cannot read it: " + message, false));
      }
      continue;
    }
    PatternDatabase p;
    p.db.reset(db);
    // Nothing readable guarantees nothing: the database is then passed over every text.
    if (const auto runs = guaranteed_runs(d.spec.pattern, gate_classes())) {
      for (size_t c = 0; c < kGateClassCount; ++c) p.runs_needed[c] = (*runs)[c];
    }
    for (size_t c = 0; c < kGateClassCount; ++c) {
      auto& t = run_thresholds[c];
      if (p.runs_needed[c] > 0 && std::find(t.begin(), t.end(), p.runs_needed[c]) == t.end()) {
        t.insert(std::upper_bound(t.begin(), t.end(), p.runs_needed[c]), p.runs_needed[c]);
      }
    }
    patterns.push_back(std::move(p));
  }
}

ContentScanner::ContentScanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ContentScanner::~ContentScanner() = default;

std::shared_ptr<const ContentScanner> ContentScanner::build(std::vector<DetectorSpec> detectors,
                                                            std::vector<DetectorProblem>* problems,
                                                            ScannerLimits limits) {
  auto impl = std::make_unique<Impl>();
  impl->limits = limits;
  std::set<std::string> ids;
  auto report = [&](const DetectorSpec& d, std::string message, bool fatal) {
    if (problems != nullptr) problems->push_back(problem(d, std::move(message), fatal));
  };
  const RE2::Options options = pattern_options();
  for (auto& spec : detectors) {
    if (!ids.insert(spec.id).second) {
      throw std::invalid_argument("duplicate detector id " + spec.id);
    }
    CompiledDetector compiled;
    compiled.filter = std::make_unique<re2::FilteredRE2>(3);
    // Compiled once, by the filter, which keeps it for confirmation too.
    int id = -1;
    if (compiled.filter->Add(spec.pattern, options, &id) != RE2::NoError) {
      report(spec, "pattern does not compile: " + RE2(spec.pattern, options).error(), true);
      continue;
    }
    const RE2& re = compiled.filter->GetRE2(id);
    if (spec.secret_group > re.NumberOfCapturingGroups()) {
      report(spec,
             "secret_group " + std::to_string(spec.secret_group) + " but the pattern has " +
                 std::to_string(re.NumberOfCapturingGroups()) + " groups",
             true);
      continue;
    }
    bool allow_ok = true;
    for (const auto& a : spec.allow_patterns) {
      auto allow = std::make_unique<RE2>(a, options);
      if (!allow->ok()) {
        report(spec, "allow pattern does not compile: " + allow->error(), true);
        allow_ok = false;
        break;
      }
      compiled.allow.push_back(std::move(allow));
    }
    if (!allow_ok) continue;
    compiled.pattern = &re;
    compiled.max_width = max_match_bytes(spec.pattern);
    compiled.spec = spec;
    impl->detectors.push_back(std::move(compiled));
  }

  for (CompiledDetector& d : impl->detectors) {
    d.filter->Compile(&d.atoms);
    std::vector<int> unfiltered;
    d.filter->AllPotentials({}, &unfiltered);
    d.atom_suffices.assign(d.atoms.size(), 0);
    for (size_t a = 0; a < d.atoms.size(); ++a) {
      std::vector<int> passed;
      d.filter->AllPotentials({static_cast<int>(a)}, &passed);
      d.atom_suffices[a] = passed.empty() ? 0 : 1;
    }
    if (d.atoms.size() >= 2 && d.atoms.size() <= kMaxAtomsRemembered) {
      d.atom_set_answers = std::make_unique<std::atomic<uint64_t>[]>(kAtomSetAnswers);
      for (size_t e = 0; e < kAtomSetAnswers; ++e) {
        d.atom_set_answers[e].store(0, std::memory_order_relaxed);
      }
    }
    // With no literal, Hyperscan's own match of a bounded pattern is the tightest gate (it
    // opens windows only where the pattern matches); keywords, often short, come next.
    if (!d.spec.anchors.empty()) {
      d.gate = Gate::kAnchors;
    } else if (unfiltered.empty()) {
      d.gate = Gate::kAtoms;
    } else if (!d.spec.keywords.empty() && !d.max_width) {
      d.gate = Gate::kKeywords;
    } else {
      d.gate = Gate::kHyperscan;
    }
  }
  impl->build_pattern_database(problems);
  impl->build_literal_database();

  for (const auto& d : impl->detectors) {
    if (d.gate == Gate::kNone) {
      report(d.spec, "no literal to prefilter on: RE2 reads every text for it", false);
    }
  }
  auto count_bytes = [&](const hs_database_t* db) {
    size_t bytes = 0;
    if (db != nullptr && hs_database_size(db, &bytes) == HS_SUCCESS) impl->database_bytes += bytes;
  };
  count_bytes(impl->literals.get());
  for (const auto& p : impl->patterns) count_bytes(p.db.get());
  for (const auto& d : impl->detectors) impl->specs.push_back(d.spec);
  for (size_t i = 0; i < impl->detectors.size(); ++i) {
    if (impl->detectors[i].gate == Gate::kNone) impl->ungated.push_back(static_cast<uint32_t>(i));
    if (!impl->detectors[i].windowed) impl->unwindowed.push_back(static_cast<uint32_t>(i));
  }
  return std::shared_ptr<const ContentScanner>(new ContentScanner(std::move(impl)));
}

namespace {

struct HitCollector {
  std::vector<TriggerHit>& hits;
  // Literals seen: a flag per literal (all clear between scans) and the list of those set,
  // so a scan costs what it hit, not the size of the literal database.
  std::vector<uint8_t>& literal_seen;
  std::vector<uint32_t>& seen_ids;
  const std::vector<uint8_t>* positions_wanted = nullptr;
  uint32_t pattern_base = 0;  // trigger id of detector 0 in the pattern database
  bool overflow = false;

  void record(uint32_t trigger, unsigned long long end) {
    if (hits.size() >= kMaxTriggerHits) {
      overflow = true;
      return;
    }
    hits.push_back({trigger, static_cast<uint32_t>(end)});
  }
  void seen(uint32_t literal) {
    if (literal_seen[literal]) return;
    literal_seen[literal] = 1;
    seen_ids.push_back(literal);
  }
};

// A thread's buffers for its scans, kept between them (no allocation per scan). Scans do not
// nest, so one set per thread is enough.
struct ScanBuffers {
  std::vector<TriggerHit> hits;
  std::vector<uint8_t> literal_seen;
  std::vector<uint32_t> seen_ids;
  ScanWindows windows{0, kMaxWindowsPerDetector};
  std::vector<std::pair<uint32_t, int>> seen_atoms;  // (detector, its atom)
  std::vector<int> atoms;
  std::vector<int> passed;
};

ScanBuffers& scan_buffers() {
  thread_local ScanBuffers buffers;
  return buffers;
}

// Leaves the buffers as a scan expects them, however the scan ended: flags clear, lists empty,
// and a hostile text's million hits not held on to.
class ScanBuffersReset {
 public:
  explicit ScanBuffersReset(ScanBuffers& b) : b_(b) {}
  ~ScanBuffersReset() {
    for (const uint32_t id : b_.seen_ids) b_.literal_seen[id] = 0;
    b_.seen_ids.clear();
    b_.hits.clear();
    b_.seen_atoms.clear();
    b_.windows.trim();
    if (b_.hits.capacity() > (size_t{1} << 16)) b_.hits.shrink_to_fit();
    if (b_.seen_atoms.capacity() > (size_t{1} << 16)) b_.seen_atoms.shrink_to_fit();
  }
  ScanBuffersReset(const ScanBuffersReset&) = delete;
  ScanBuffersReset& operator=(const ScanBuffersReset&) = delete;

 private:
  ScanBuffers& b_;
};

}  // namespace

ScanResult ContentScanner::scan(std::string_view text) const {
  ScanResult result;
  const Impl& impl = *impl_;
  const size_t n = impl.detectors.size();
  // Hyperscan takes at most 4 GiB; what is beyond is not scanned (callers cap far lower).
  const auto length = static_cast<unsigned>(std::min<size_t>(text.size(), UINT32_MAX));
  text = text.substr(0, length);

  ScanBuffers& buffers = scan_buffers();
  const ScanBuffersReset reset(buffers);
  if (buffers.literal_seen.size() < impl.literal_uses.size()) {
    buffers.literal_seen.resize(impl.literal_uses.size(), 0);
  }
  HitCollector collector{buffers.hits, buffers.literal_seen, buffers.seen_ids};
  collector.positions_wanted = &impl.literal_positions_wanted;
  collector.pattern_base = static_cast<uint32_t>(impl.literal_uses.size());
  if (!text.empty() && (impl.literals || !impl.patterns.empty())) {
    HsScratch scratch = impl.take_scratch();
    if (impl.literals) {
      hs_scan(
          impl.literals.get(), text.data(), length, 0, scratch.get(),
          [](unsigned int id, unsigned long long, unsigned long long to, unsigned int, void* ctx) {
            auto& c = *static_cast<HitCollector*>(ctx);
            c.seen(id);
            if ((*c.positions_wanted)[id]) c.record(id, to);
            return 0;
          },
          &collector);
    }
    // The run gate: which pattern databases the text can match at all.
    ClassRuns runs{};
    if (!impl.patterns.empty() && impl.limits.run_gate) {
      runs = class_runs_reached(text, impl.run_thresholds);
    } else {
      runs.fill(UINT32_MAX);
    }
    for (const Impl::PatternDatabase& p : impl.patterns) {
      bool possible = true;
      for (size_t c = 0; c < kGateClassCount; ++c) possible = possible && runs[c] >= p.runs_needed[c];
      if (!possible) continue;
      ++result.pattern_passes;
      hs_scan(
          p.db.get(), text.data(), length, 0, scratch.get(),
          [](unsigned int id, unsigned long long, unsigned long long to, unsigned int, void* ctx) {
            auto& c = *static_cast<HitCollector*>(ctx);
            c.record(c.pattern_base + id, to);
            return 0;
          },
          &collector);
    }
    impl.give_back(std::move(scratch));
  }

  // Which detectors to confirm, and whether in windows or over the whole text. A detector
  // gated by atoms is a candidate when its prefilter formula holds on the atoms seen; one
  // gated by anchors, keywords or its Hyperscan pattern when any was seen.
  ScanWindows& windows = buffers.windows;
  windows.reset(n);
  std::vector<std::pair<uint32_t, int>>& seen_atoms = buffers.seen_atoms;
  std::sort(buffers.seen_ids.begin(), buffers.seen_ids.end());  // in literal order, as before
  for (const uint32_t id : buffers.seen_ids) {
    for (const LiteralUse& use : impl.literal_uses[id]) {
      if (use.atom >= 0) {
        seen_atoms.emplace_back(use.detector, use.atom);
      } else {
        windows.want(use.detector);
      }
    }
  }
  std::sort(seen_atoms.begin(), seen_atoms.end());
  std::vector<int>& atoms = buffers.atoms;
  std::vector<int>& passed = buffers.passed;
  for (size_t k = 0; k < seen_atoms.size();) {
    const uint32_t di = seen_atoms[k].first;
    const CompiledDetector& d = impl.detectors[di];
    atoms.clear();
    bool suffices = false;
    for (; k < seen_atoms.size() && seen_atoms[k].first == di; ++k) {
      atoms.push_back(seen_atoms[k].second);
      suffices = suffices || d.atom_suffices[static_cast<size_t>(seen_atoms[k].second)] != 0;
    }
    if (!suffices && atoms.size() > 1) {  // one atom alone: its answer is atom_suffices
      suffices = formula_holds(d, atoms, passed);
    }
    if (suffices) windows.want(di);
  }
  if (collector.overflow || !impl.limits.prefilter) {
    for (size_t i = 0; i < n; ++i) {
      const auto di = static_cast<uint32_t>(i);
      const CompiledDetector& d = impl.detectors[i];
      // Hits were dropped: a pattern-gated detector may have matched unseen.
      if (d.gate == Gate::kNone || (collector.overflow && d.gate == Gate::kHyperscan)) {
        windows.want(di);
      }
      if (!impl.limits.prefilter) windows.want(di);
      windows.read_whole(di);
    }
  } else {  // the same, for the usual case, from the lists made at build
    for (const uint32_t di : impl.ungated) windows.want(di);
    for (const uint32_t di : impl.unwindowed) windows.read_whole(di);
  }
  for (const TriggerHit& hit : collector.hits) {
    if (hit.trigger >= collector.pattern_base) {
      const uint32_t di = hit.trigger - collector.pattern_base;
      windows.want(di);
      // Hyperscan reports where a match ends: the window ends there too.
      const auto width = static_cast<uint32_t>(impl.detectors[di].max_width.value_or(0));
      windows.add({di, width + kWindowSlack, kWindowSlack}, hit.end, text.size());
      continue;
    }
    for (const LiteralUse& use : impl.literal_uses[hit.trigger]) {
      if (use.opens_window) windows.add(use.reach, hit.end, text.size());
    }
  }

  auto& dets = result.detections;
  const std::vector<ScanWindow>& merged = windows.merged();
  for (size_t w = 0; w < merged.size();) {
    const uint32_t di = merged[w].detector;
    const CompiledDetector& d = impl.detectors[di];
    const size_t kept = dets.size();
    bool fits = true;
    for (; w < merged.size() && merged[w].detector == di; ++w) {
      if (fits) {
        fits = impl.confirm(d, text, merged[w].begin, merged[w].end, dets, result.bytes_confirmed);
      }
    }
    if (!fits) {  // a match outgrew its window: this detector reads the whole text
      dets.resize(kept);
      windows.read_whole(di);
    }
  }
  for (const uint32_t di : windows.wanted_detectors()) {
    if (windows.whole(di)) {
      impl.confirm(impl.detectors[di], text, 0, text.size(), dets, result.bytes_confirmed);
    }
  }

  std::sort(dets.begin(), dets.end(), [](const Detection& a, const Detection& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.detector_id < b.detector_id;
  });
  // One detection per detector and place (windows of one detector can overlap).
  dets.erase(std::unique(dets.begin(), dets.end(),
                         [](const Detection& a, const Detection& b) {
                           return a.offset == b.offset && a.length == b.length &&
                                  a.detector_id == b.detector_id;
                         }),
             dets.end());
  if (dets.size() > impl.limits.max_detections) {
    result.dropped = dets.size() - impl.limits.max_detections;
    dets.resize(impl.limits.max_detections);
  }
  return result;
}

std::string ContentScanner::redact(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  size_t done = 0;
  for (const Detection& d : scan(text).detections) {
    if (d.category == DetectorCategory::kPromptAttack || d.category == DetectorCategory::kBulk) {
      continue;
    }
    if (d.offset < done) continue;  // overlaps one already redacted
    out.append(text.substr(done, d.offset - done));
    out.append(d.redacted);
    done = d.offset + d.length;
  }
  out.append(text.substr(done));
  return out;
}

size_t ContentScanner::detector_count() const { return impl_->detectors.size(); }
const std::vector<DetectorSpec>& ContentScanner::detectors() const { return impl_->specs; }
size_t ContentScanner::database_bytes() const { return impl_->database_bytes; }

const RunThresholds& ContentScanner::run_thresholds() const { return impl_->run_thresholds; }

double shannon_entropy(std::string_view s) {
  if (s.empty()) return 0;
  std::array<size_t, 256> counts{};
  for (const char c : s) ++counts[static_cast<unsigned char>(c)];
  double entropy = 0;
  const double n = static_cast<double>(s.size());
  for (const size_t count : counts) {
    if (count == 0) continue;
    const double p = static_cast<double>(count) / n;
    entropy -= p * std::log2(p);
  }
  return entropy;
}

std::string redact_secret(std::string_view secret) {
  const size_t keep = secret.size() < 8 ? 0 : std::min<size_t>(4, secret.size() / 4);
  std::string out;
  out.reserve(secret.size());
  out.append(secret.substr(0, keep));
  out.append(secret.size() - 2 * keep, '*');
  out.append(secret.substr(secret.size() - keep));
  return out;
}

std::string secret_fingerprint(std::string_view secret) { return sha256_hex(secret).substr(0, 12); }

}  // namespace llmtap::policy
