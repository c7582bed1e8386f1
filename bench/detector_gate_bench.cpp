// Which detectors make the DLP scan's Hyperscan gate expensive: for every built-in detector,
// its gate (literal atoms, anchors, keywords, or the pattern itself when it has no literal),
// and for each pattern-gated one the time a Hyperscan database of that pattern alone takes
// over clean prompts, against the same database without it.
// Then the whole scanner (built-in pack) with the run gate (pattern_runs.h) and without: time
// per KiB and pattern databases passed per scan, over the clean prompts and over the bodies
// bench/agent_cpu_bench sends (OpenAI request and answer, JSON-unescaped as the policy reads).
//   build/bench/detector_gate_bench [--clean ../shared/dlp/clean.txt] [--piece 1024]
//                                   [--only scanner|gate]
// --only gate: the run gate alone (policy::class_runs_reached with the built-in pack's
// thresholds), each byte-classifying kernel this CPU has, over the same texts and over one
// 1 MiB request (the agent bench's prose, as the daemon scans a 1 MiB prompt).
#include <hs/hs.h>
#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "llm_call_bodies.h"
#include "policy/detection/byte_class_runs.h"
#include "policy/detection/content_scanner.h"
#include "policy/detection/detector_catalog.h"
#include "policy/detection/pattern_facts.h"
#include "policy/scan_text.h"

using Clock = std::chrono::steady_clock;
using namespace llmtap;

namespace {

int on_match(unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
  ++*static_cast<size_t*>(ctx);
  return 0;
}

hs_database_t* compile(const std::vector<std::string>& patterns, const std::vector<unsigned>& flags) {
  std::vector<const char*> data;
  std::vector<unsigned> ids;
  for (size_t i = 0; i < patterns.size(); ++i) {
    data.push_back(patterns[i].c_str());
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(data.data(), flags.data(), ids.data(), static_cast<unsigned>(data.size()),
                       HS_MODE_BLOCK, nullptr, &db, &error) != HS_SUCCESS) {
    std::fprintf(stderr, "compile: %s\n", error ? error->message : "?");
    hs_free_compile_error(error);
    return nullptr;
  }
  return db;
}

// Nanoseconds per KiB over the text, scanned in `piece`-byte blocks (best of 5 passes).
double ns_per_kib(hs_database_t* db, const std::string& text, size_t piece, size_t* matches) {
  hs_scratch_t* scratch = nullptr;
  hs_alloc_scratch(db, &scratch);
  double best = 1e18;
  for (int pass = 0; pass < 5; ++pass) {
    *matches = 0;
    const auto start = Clock::now();
    for (size_t at = 0; at < text.size(); at += piece) {
      const size_t n = std::min(piece, text.size() - at);
      hs_scan(db, text.data() + at, static_cast<unsigned>(n), 0, scratch, on_match, matches);
    }
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    best = std::min(best, ns / (static_cast<double>(text.size()) / 1024.0));
  }
  hs_free_scratch(scratch);
  return best;
}

// The scanner over `texts`, best of 7 passes: ns per KiB, and pattern passes per text.
std::pair<double, double> scanner_figures(const policy::ContentScanner& scanner,
                                          const std::vector<std::string>& texts) {
  size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();
  double best = 1e18;
  size_t passes = 0;
  for (int pass = 0; pass < 7; ++pass) {
    passes = 0;
    const auto start = Clock::now();
    for (const auto& t : texts) passes += scanner.scan(t).pattern_passes;
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    best = std::min(best, ns / (static_cast<double>(bytes) / 1024.0));
  }
  return {best, static_cast<double>(passes) / static_cast<double>(texts.size())};
}

// The texts both timings read: the clean prompts in `piece`-byte pieces, and the agent bench's
// requests and answers as the policy reads them (JSON-unescaped).
struct BenchTexts {
  std::vector<std::string> pieces, requests, answers;
};

BenchTexts bench_texts(const std::string& clean, size_t piece) {
  BenchTexts texts;
  for (size_t at = 0; at < clean.size(); at += piece) texts.pieces.push_back(clean.substr(at, piece));
  for (uint64_t n = 0; n < 256; ++n) {
    std::string text;
    policy::json_unescaped(bench::openai_request_body(1024, n), text);
    texts.requests.push_back(text);
    policy::json_unescaped(bench::chat_completion_body(1121, n), text);
    texts.answers.push_back(text);
  }
  return texts;
}

void compare_run_gate(const std::string& clean, size_t piece) {
  policy::ScannerLimits gated_limits;
  policy::ScannerLimits ungated_limits;
  ungated_limits.run_gate = false;
  const auto gated = policy::ContentScanner::build(policy::builtin_detectors(), nullptr,
                                                   gated_limits);
  const auto ungated = policy::ContentScanner::build(policy::builtin_detectors(), nullptr,
                                                     ungated_limits);
  const BenchTexts corpus = bench_texts(clean, piece);
  std::printf("\nthe whole scanner (%zu detectors), ns per KiB and pattern databases passed per "
              "text, best of 7; run gate on / off:\n",
              gated->detector_count());
  const std::pair<const char*, const std::vector<std::string>*> sets[] = {
      {"clean prompts in pieces", &corpus.pieces},
      {"agent bench requests", &corpus.requests},
      {"agent bench answers", &corpus.answers}};
  for (const auto& [name, texts] : sets) {
    for (int round = 0; round < 3; ++round) {  // alternating
      const auto on = scanner_figures(*gated, *texts);
      const auto off = scanner_figures(*ungated, *texts);
      std::printf("  %-26s %7.0f ns/KiB (%.2f passes)  /  %7.0f ns/KiB (%.2f passes)\n", name,
                  on.first, on.second, off.first, off.second);
    }
  }
}

// The run gate by itself: ns per KiB for each kernel (best of 7 passes, three rounds).
void time_run_gate(const std::string& clean, size_t piece) {
  const auto scanner = policy::ContentScanner::build(policy::builtin_detectors());
  const policy::RunThresholds& thresholds = scanner->run_thresholds();
  std::printf("run gate thresholds per class:");
  for (const auto& t : thresholds) {
    std::printf(" {");
    for (size_t i = 0; i < t.size(); ++i) std::printf("%s%u", i ? "," : "", t[i]);
    std::printf("}");
  }
  std::printf("\n");
  const BenchTexts corpus = bench_texts(clean, piece);
  std::vector<std::string> large(1);
  policy::json_unescaped(bench::openai_request_body(1 << 20, 7), large[0]);
  const std::pair<const char*, const std::vector<std::string>*> sets[] = {
      {"clean prompts in pieces", &corpus.pieces}, {"agent bench requests", &corpus.requests},
      {"one 1 MiB request", &large}};
  const char* const names[] = {"scalar", "ssse3", "avx2"};
  for (const auto& [name, texts] : sets) {
    size_t bytes = 0;
    for (const auto& t : *texts) bytes += t.size();
    for (int round = 0; round < 3; ++round) {
      std::printf("  %-24s", name);
      for (const policy::ByteClassKernel kernel : policy::byte_class_kernels()) {
        double best = 1e18;
        uint64_t sink = 0;
        for (int pass = 0; pass < 7; ++pass) {
          const auto start = Clock::now();
          for (const auto& t : *texts) sink += policy::class_runs_reached(t, thresholds, kernel)[5];
          const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
          best = std::min(best, ns / (static_cast<double>(bytes) / 1024.0));
        }
        std::printf("  %s %6.0f ns/KiB", names[static_cast<int>(kernel)], best);
        if (sink == 1) std::printf(" ");  // keep the result
      }
      std::printf("\n");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string clean_path = "../shared/dlp/clean.txt";
  size_t piece = 1024;
  bool scanner_only = false;
  bool gate_only = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clean")) clean_path = argv[i + 1];
    if (!std::strcmp(argv[i], "--piece")) piece = static_cast<size_t>(std::atol(argv[i + 1]));
    if (!std::strcmp(argv[i], "--only") && !std::strcmp(argv[i + 1], "scanner")) scanner_only = true;
    if (!std::strcmp(argv[i], "--only") && !std::strcmp(argv[i + 1], "gate")) gate_only = true;
  }
  std::ifstream in(clean_path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  if (text.empty()) {
    std::fprintf(stderr, "no text in %s\n", clean_path.c_str());
    return 1;
  }
  if (gate_only) {
    time_run_gate(text, piece);
    return 0;
  }
  if (scanner_only) {
    compare_run_gate(text, piece);
    return 0;
  }
  RE2::Options options;
  options.set_log_errors(false);
  std::vector<std::string> ids;
  std::vector<std::string> patterns;
  std::vector<unsigned> flags;
  size_t atoms = 0, anchors = 0, keywords = 0, none = 0;
  for (const policy::DetectorSpec& spec : policy::builtin_detectors()) {
    re2::FilteredRE2 filter(3);
    int id = -1;
    if (filter.Add(spec.pattern, options, &id) != RE2::NoError) continue;
    std::vector<std::string> atom_list;
    filter.Compile(&atom_list);
    std::vector<int> unfiltered;
    filter.AllPotentials({}, &unfiltered);
    const auto width = policy::max_match_bytes(spec.pattern);
    if (!spec.anchors.empty()) {
      ++anchors;
    } else if (unfiltered.empty()) {
      ++atoms;
    } else if (!spec.keywords.empty() && !width) {
      ++keywords;
    } else if (auto bytes = policy::hyperscan_byte_pattern(spec.pattern)) {
      ids.push_back(spec.id);
      patterns.push_back(*bytes);
      flags.push_back(width ? 0u : static_cast<unsigned>(HS_FLAG_SINGLEMATCH));
    } else {
      ++none;
    }
  }
  std::printf("%zu detectors: %zu gated by atoms, %zu by anchors, %zu by keywords, %zu by their "
              "own pattern, %zu by none; text %zu bytes in %zu-byte pieces\n",
              policy::builtin_detectors().size(), atoms, anchors, keywords, patterns.size(), none,
              text.size(), piece);
  size_t matches = 0;
  hs_database_t* all = compile(patterns, flags);
  if (all == nullptr) return 1;
  const double all_ns = ns_per_kib(all, text, piece, &matches);
  std::printf("pattern database, all %zu: %.0f ns per KiB, %zu matches\n", patterns.size(), all_ns,
              matches);
  hs_free_database(all);
  for (size_t i = 0; i < patterns.size(); ++i) {
    hs_database_t* one = compile({patterns[i]}, {flags[i]});
    std::vector<std::string> rest_p = patterns;
    std::vector<unsigned> rest_f = flags;
    rest_p.erase(rest_p.begin() + static_cast<long>(i));
    rest_f.erase(rest_f.begin() + static_cast<long>(i));
    hs_database_t* rest = rest_p.empty() ? nullptr : compile(rest_p, rest_f);
    size_t one_matches = 0, rest_matches = 0;
    const double one_ns = one ? ns_per_kib(one, text, piece, &one_matches) : 0;
    const double rest_ns = rest ? ns_per_kib(rest, text, piece, &rest_matches) : 0;
    std::printf("  %-28s alone %6.0f ns/KiB (%6zu matches)  all but it %6.0f ns/KiB\n",
                ids[i].c_str(), one_ns, one_matches, rest_ns);
    if (one) hs_free_database(one);
    if (rest) hs_free_database(rest);
  }
  compare_run_gate(text, piece);
  return 0;
}
