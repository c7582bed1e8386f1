#pragma once
// Finds sensitive content in text with every detector at once, in two steps.
//
// 1. Gate, in one Hyperscan pass per database: a literal database holds, for each detector,
//    the literals any match must contain (RE2's FilteredRE2 derives them: "atoms"), or the
//    spec's anchors or keywords; a pattern database holds the (byte-form) patterns of the
//    detectors with none. A detector is a candidate when its prefilter formula holds on the
//    atoms seen, or when one of its triggers was seen. A pattern database is passed over the
//    text only when the text holds the runs of bytes every match of the pattern holds (14
//    bytes of [0-9 -] in a row for a payment card): most texts pass none.
// 2. Confirm, with RE2: only windows around the triggers' hits, as wide as the longest match
//    the pattern allows (whole text for an unbounded pattern, or when a match reaches a
//    window's edge); RE2 extracts the secret's capture group; then keywords, entropy floor,
//    stop-words, allow-patterns and validator confirm it.
//
// What is confirmed is reported redacted (Detection), never in clear.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/detection/byte_class_runs.h"
#include "policy/detection/detection.h"
#include "policy/detection/detector_spec.h"

namespace llmtap::policy {

struct DetectorProblem {
  std::string detector_id;
  std::string source;  // file the detector came from
  int line = 0;
  std::string message;
  bool fatal = false;  // the detector is unusable (bad RE2 syntax); else a warning
};

struct ScannerLimits {
  size_t max_detections = 1000;  // per scan; the rest are counted, not reported
  size_t context_bytes = 64;     // around a match, for keyword and phone checks
  // Gate and confirm in windows (false: RE2 reads every text whole for every detector; the
  // reference the tests hold the gates and windows to).
  bool prefilter = true;
  // Pass a pattern-gated detector's database only over texts holding the runs its pattern
  // needs (false: over every text; for benchmarks and tests).
  bool run_gate = true;
};

struct ScanResult {
  std::vector<Detection> detections;  // in order of offset
  size_t dropped = 0;                 // over max_detections
  size_t bytes_confirmed = 0;         // bytes RE2 read to confirm candidates (all detectors)
  // Hyperscan passes of pattern-gated detectors' databases: only those whose pattern's runs
  // (pattern_runs.h) the text has.
  size_t pattern_passes = 0;
};

class ContentScanner {
 public:
  // Compiles `detectors`. Detectors with fatal problems (RE2 cannot compile the pattern) are
  // left out; problems, fatal or not ("no literal to prefilter on"), go to `problems` when
  // given. Throws std::invalid_argument on duplicate ids.
  static std::shared_ptr<const ContentScanner> build(
      std::vector<DetectorSpec> detectors, std::vector<DetectorProblem>* problems = nullptr,
      ScannerLimits limits = {});
  ~ContentScanner();

  // Thread-safe: each thread gets its own Hyperscan scratch.
  ScanResult scan(std::string_view text) const;
  // `text` with every secret, personal datum and custom marker found in it replaced by its
  // redacted form (prompt and completion text in events go through this).
  std::string redact(std::string_view text) const;

  size_t detector_count() const;
  const std::vector<DetectorSpec>& detectors() const;
  size_t database_bytes() const;  // compiled Hyperscan database size
  // Per gate class, the runs the pattern databases need (what the run gate looks for).
  const RunThresholds& run_thresholds() const;

  struct Impl;

 private:
  explicit ContentScanner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Helpers shared with redaction elsewhere.
double shannon_entropy(std::string_view s);  // bits per byte
// "AKIAIOSFODNN7EXAMPLE" -> "AKIA************MPLE": at most 4 characters kept at each end,
// and never more than a quarter of the secret; short secrets are masked whole.
std::string redact_secret(std::string_view secret);
std::string secret_fingerprint(std::string_view secret);  // first 12 hex of SHA-256

}  // namespace llmtap::policy
