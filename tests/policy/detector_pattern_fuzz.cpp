// libFuzzer target for what the content scanner reads from a detector's pattern (a policy's
// author, or a gitleaks rule file, writes it): the first line is the pattern, the rest the
// text. The pattern's width and byte form must never crash, and the scanner's gates and
// windows must find exactly what RE2 reading the whole text finds.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "policy/detection/content_scanner.h"
#include "policy/detection/pattern_facts.h"

using namespace llmtap::policy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  if (newline == std::string_view::npos || newline > 200) return 0;
  const std::string pattern(input.substr(0, newline));
  const std::string_view text = input.substr(newline + 1);
  // Known and documented (docs/policy.md): the literal gate folds ASCII case only, while RE2's
  // (?i) also matches k as U+212A KELVIN SIGN and s as U+017F LONG S.
  const bool unicode_fold = text.find("\xE2\x84\xAA") != std::string_view::npos ||
                            text.find("\xC5\xBF") != std::string_view::npos;
  (void)max_match_bytes(pattern);
  (void)hyperscan_byte_pattern(pattern);

  DetectorSpec spec;
  spec.id = "fuzz";
  spec.pattern = pattern;
  ScannerLimits reference_limits;
  reference_limits.prefilter = false;
  try {
    const auto gated = ContentScanner::build({spec});
    const auto reference = ContentScanner::build({spec}, nullptr, reference_limits);
    auto key = [](const ScanResult& r) {
      std::vector<std::tuple<size_t, size_t>> out;
      for (const auto& d : r.detections) out.emplace_back(d.offset, d.length);
      return out;
    };
    const auto gated_result = key(gated->scan(text));
    if (!unicode_fold && gated_result != key(reference->scan(text))) std::abort();
  } catch (const std::exception&) {
  }
  return 0;
}
