#include "policy/detection/content_scanner.h"

#include <hs/hs.h>
#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <mutex>
#include <set>
#include <stdexcept>

#include "common/sha256.h"
#include "policy/detection/pii_validators.h"

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

// A detector ready to confirm candidates.
struct CompiledDetector {
  DetectorSpec spec;
  const RE2* pattern = nullptr;  // the filter's own compiled copy
  std::vector<std::unique_ptr<RE2>> allow;
};

RE2::Options pattern_options() {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(64 << 20);
  return options;
}

}  // namespace

struct ContentScanner::Impl {
  std::vector<CompiledDetector> detectors;
  std::vector<DetectorSpec> specs;
  // The literal prefilter: RE2's FilteredRE2 derives from each pattern the literals ("atoms")
  // any match must contain; Hyperscan finds which atoms a text holds in one pass; only the
  // detectors those atoms allow (and those with no atom at all) are run by RE2.
  re2::FilteredRE2 filter{3};
  std::vector<std::string> atoms;
  HsDatabase database;  // the atoms, as case-insensitive literals
  size_t database_bytes = 0;
  // Filter id -> index in `detectors`, or -1 for a pattern the filter holds but that is
  // unusable (its secret_group or allow patterns are wrong).
  std::vector<int> detector_of;
  ScannerLimits limits;

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
    if (hs_alloc_scratch(database.get(), &s) != HS_SUCCESS) throw std::bad_alloc();
    return HsScratch(s);
  }
  void give_back(HsScratch s) const {
    std::lock_guard lock(scratch_mutex);
    idle_scratch.push_back(std::move(s));
  }

  void confirm(const CompiledDetector& d, std::string_view text, std::vector<Detection>& out) const;
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

}  // namespace

void ContentScanner::Impl::confirm(const CompiledDetector& d, std::string_view text,
                                   std::vector<Detection>& out) const {
  const RE2& re = *d.pattern;
  const int groups = re.NumberOfCapturingGroups();
  std::vector<re2::StringPiece> sub(static_cast<size_t>(groups) + 1);
  size_t pos = 0;
  while (pos < text.size()) {
    if (!re.Match(re2::StringPiece(text.data(), text.size()), pos, text.size(), RE2::UNANCHORED,
                  sub.data(), static_cast<int>(sub.size()))) {
      break;
    }
    const re2::StringPiece whole = sub[0];
    const size_t match_begin = static_cast<size_t>(whole.data() - text.data());
    const size_t match_end = match_begin + whole.size();
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
    if (problems != nullptr)
      problems->push_back({d.id, d.source, d.line, std::move(message), fatal});
  };
  const RE2::Options options = pattern_options();
  for (auto& spec : detectors) {
    if (!ids.insert(spec.id).second) {
      throw std::invalid_argument("duplicate detector id " + spec.id);
    }
    // Compiled once, by the filter, which keeps it for confirmation too.
    int id = -1;
    if (impl->filter.Add(spec.pattern, options, &id) != RE2::NoError) {
      report(spec, "pattern does not compile: " + RE2(spec.pattern, options).error(), true);
      continue;
    }
    impl->detector_of.push_back(-1);  // until it proves usable
    const RE2& re = impl->filter.GetRE2(id);
    if (spec.secret_group > re.NumberOfCapturingGroups()) {
      report(spec,
             "secret_group " + std::to_string(spec.secret_group) + " but the pattern has " +
                 std::to_string(re.NumberOfCapturingGroups()) + " groups",
             true);
      continue;
    }
    CompiledDetector compiled;
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
    compiled.spec = spec;
    impl->detector_of[static_cast<size_t>(id)] = static_cast<int>(impl->detectors.size());
    impl->detectors.push_back(std::move(compiled));
  }

  impl->filter.Compile(&impl->atoms);
  if (!impl->atoms.empty()) {
    std::vector<const char*> literals;
    std::vector<size_t> lengths;
    std::vector<unsigned> flags;
    std::vector<unsigned> ids;
    for (size_t i = 0; i < impl->atoms.size(); ++i) {
      literals.push_back(impl->atoms[i].data());
      lengths.push_back(impl->atoms[i].size());
      flags.push_back(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
      ids.push_back(static_cast<unsigned>(i));
    }
    hs_database_t* db = nullptr;
    hs_compile_error_t* error = nullptr;
    if (hs_compile_lit_multi(literals.data(), flags.data(), ids.data(), lengths.data(),
                             static_cast<unsigned>(literals.size()), HS_MODE_BLOCK, nullptr, &db,
                             &error) != HS_SUCCESS) {
      const std::string message = error != nullptr ? error->message : "unknown error";
      hs_free_compile_error(error);
      throw std::runtime_error("Hyperscan cannot compile the detectors' literals: " + message);
    }
    impl->database.reset(db);
  }
  // Which detectors no literal can rule out: RE2 reads every text for them.
  std::vector<int> unfiltered;
  impl->filter.AllPotentials({}, &unfiltered);
  for (const int id : unfiltered) {
    if (const int i = impl->detector_of[static_cast<size_t>(id)]; i >= 0) {
      report(impl->detectors[static_cast<size_t>(i)].spec,
             "no literal to prefilter on: RE2 reads every text for it", false);
    }
  }
  if (impl->database) hs_database_size(impl->database.get(), &impl->database_bytes);
  for (const auto& d : impl->detectors) impl->specs.push_back(d.spec);
  return std::shared_ptr<const ContentScanner>(new ContentScanner(std::move(impl)));
}

ScanResult ContentScanner::scan(std::string_view text) const {
  ScanResult result;
  const Impl& impl = *impl_;
  std::vector<int> atoms;
  if (impl.database && !text.empty()) {
    HsScratch scratch = impl.take_scratch();
    hs_scan(
        impl.database.get(), text.data(),
        static_cast<unsigned>(std::min<size_t>(text.size(), UINT32_MAX)), 0, scratch.get(),
        [](unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx) {
          static_cast<std::vector<int>*>(ctx)->push_back(static_cast<int>(id));
          return 0;
        },
        &atoms);
    impl.give_back(std::move(scratch));
  }
  std::vector<int> candidates;
  impl.filter.AllPotentials(atoms, &candidates);
  for (const int id : candidates) {
    if (const int i = impl.detector_of[static_cast<size_t>(id)]; i >= 0) {
      impl.confirm(impl.detectors[static_cast<size_t>(i)], text, result.detections);
    }
  }

  auto& dets = result.detections;
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
