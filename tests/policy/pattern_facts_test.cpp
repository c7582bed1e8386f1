#include "policy/detection/pattern_facts.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "policy/detection/content_scanner.h"

namespace llmtap::policy {
namespace {

TEST(PatternFacts, LongestMatchInUtf8Bytes) {
  EXPECT_EQ(max_match_bytes("abc"), 3u);
  EXPECT_EQ(max_match_bytes("a{2,5}b?"), 6u);
  EXPECT_EQ(max_match_bytes("a{3}"), 3u);
  EXPECT_EQ(max_match_bytes("(?:ab|cdef)x"), 5u);
  EXPECT_EQ(max_match_bytes(R"(\d{2,4}-[a-z]{1,10})"), 15u);
  EXPECT_EQ(max_match_bytes("(?P<name>ab)"), 2u);
  EXPECT_EQ(max_match_bytes(R"(\Qa.b\E)"), 3u);
  EXPECT_EQ(max_match_bytes(R"(^\bab\z$)"), 2u);
  EXPECT_EQ(max_match_bytes("x{"), 2u);  // a literal '{'
  // What RE2 reads as one code point can take four bytes.
  EXPECT_EQ(max_match_bytes("."), 4u);
  EXPECT_EQ(max_match_bytes(R"([^"]{2})"), 8u);
  EXPECT_EQ(max_match_bytes(R"(\S\W\D)"), 12u);
  EXPECT_EQ(max_match_bytes(R"(\pL)"), 4u);
  EXPECT_EQ(max_match_bytes(R"(\x{E0001})"), 4u);
  EXPECT_EQ(max_match_bytes(R"([\x{100}-\x{7FF}])"), 2u);
  // Under (?i) RE2 matches k as U+212A KELVIN SIGN and s as U+017F LONG S.
  EXPECT_EQ(max_match_bytes("(?i)ab"), 2u);
  EXPECT_EQ(max_match_bytes("(?i)key"), 5u);
  EXPECT_EQ(max_match_bytes("(?i:s)s"), 4u);
  EXPECT_EQ(max_match_bytes("(?i)[a-z]"), 3u);
  // Unbounded or unreadable.
  EXPECT_FALSE(max_match_bytes("a+"));
  EXPECT_FALSE(max_match_bytes("ab*"));
  EXPECT_FALSE(max_match_bytes("a{2,}"));
  EXPECT_FALSE(max_match_bytes("(?:ab|c+)"));
  EXPECT_FALSE(max_match_bytes("(unclosed"));
  EXPECT_FALSE(max_match_bytes("a{99999999}"));
}

TEST(PatternFacts, BytePatternsForHyperscan) {
  EXPECT_EQ(hyperscan_byte_pattern("ab[0-9]{3}"), "ab[0-9]{3}");
  EXPECT_EQ(hyperscan_byte_pattern(R"(\x{E9})"), R"(\xC3\xA9)");
  EXPECT_EQ(hyperscan_byte_pattern(R"([^a])"), R"((?:[^\x80-\xFFa]|(?:[\x80-\xFF]{1,4})))");
  EXPECT_EQ(hyperscan_byte_pattern(R"([]a])"), R"([]a])");
  // Hyperscan reads a C string: a NUL (or any control byte) is written as an escape, so the
  // alternatives after it are not lost (a fuzzer found "a\0b| " missing the " ").
  EXPECT_EQ(hyperscan_byte_pattern(std::string("a\0b| ", 5)), R"(a\x00b| )");
  EXPECT_EQ(hyperscan_byte_pattern(std::string("[\0\x1F]", 4)), R"([\x00\x1F])");
  // What bytes cannot carry.
  EXPECT_FALSE(hyperscan_byte_pattern(R"(\pL)"));
  EXPECT_FALSE(hyperscan_byte_pattern("[\xC3\xA9]"));
  EXPECT_FALSE(hyperscan_byte_pattern("(?i)caf\xC3\xA9"));
  EXPECT_FALSE(hyperscan_byte_pattern(R"([\x{E9}])"));
  EXPECT_FALSE(hyperscan_byte_pattern("[abc"));
}

TEST(PatternFacts, ByteEscapes) {
  EXPECT_EQ(decode_byte_escapes(R"(\xF3\xA0)"), "\xF3\xA0");
  EXPECT_EQ(decode_byte_escapes("@"), "@");
  EXPECT_EQ(decode_byte_escapes(R"(a\\b)"), "a\\b");
  EXPECT_FALSE(decode_byte_escapes(R"(\x)"));
  EXPECT_FALSE(decode_byte_escapes(R"(\xZZ)"));
  EXPECT_FALSE(decode_byte_escapes(R"(\n)"));
  EXPECT_FALSE(decode_byte_escapes("\\"));
}

// Detectors with no literal are gated by Hyperscan matching their byte form; that gate must
// pass wherever RE2 matches, also around multi-byte and invalid UTF-8 (compared with reading
// every text whole).
TEST(PatternFacts, HyperscanGateMissesNoRe2Match) {
  std::vector<DetectorSpec> specs;
  const char* patterns[] = {
      R"((?:^|[^0-9A-Za-z])([0-9]{3}-[0-9]{2})(?:[^0-9A-Za-z]|$))",
      R"(q.z)",
      R"(\W[0-9]{2}\W)",
      R"([^"x]{3}y)",
      R"(\x{E9}[0-9])",
      R"(\S\Dw)",
      R"((?s)v.{1,3}v)",
      R"([[:^alpha:]]Q)",
      R"(q[^0-9]z)",
      R"(w\Wv)",
  };
  int n = 0;
  for (const char* p : patterns) {
    DetectorSpec d;
    d.id = "p" + std::to_string(n++);
    d.pattern = p;
    specs.push_back(d);
  }
  std::vector<DetectorProblem> problems;
  ScannerLimits whole_limits;
  whole_limits.prefilter = false;
  whole_limits.max_detections = 1 << 20;
  ScannerLimits window_limits;
  window_limits.max_detections = 1 << 20;
  const auto whole = ContentScanner::build(specs, &problems, whole_limits);
  const auto windowed = ContentScanner::build(specs, nullptr, window_limits);
  for (const auto& p : problems) ADD_FAILURE() << p.detector_id << ": " << p.message;

  const std::string pieces[] = {"0",
                                "1",
                                "7",
                                "-",
                                "q",
                                "z",
                                "y",
                                "w",
                                "v",
                                "Q",
                                "\"",
                                "x",
                                " ",
                                "\n",
                                "\xC3\xA9",
                                "\xE6\x97\xA5",
                                "\xF0\x9F\x94\x91",
                                "\xFF",
                                "\x80",
                                "\xC3"};
  std::mt19937 random(5);
  std::string text;
  for (int i = 0; i < 200000; ++i) text += pieces[random() % std::size(pieces)];
  auto key = [](const ScanResult& r) {
    std::vector<std::tuple<std::string, size_t, size_t>> out;
    for (const auto& d : r.detections) out.emplace_back(d.detector_id, d.offset, d.length);
    return out;
  };
  // Whole, and in short pieces (where one missed gate is not hidden by a neighbour's window).
  const ScanResult a = whole->scan(text);
  const ScanResult b = windowed->scan(text);
  EXPECT_GT(a.detections.size(), 1000u);
  EXPECT_EQ(key(a), key(b));
  EXPECT_LT(b.bytes_confirmed, a.bytes_confirmed);
  for (size_t at = 0; at < text.size(); at += 48) {
    const std::string_view piece = std::string_view(text).substr(at, 48);
    ASSERT_EQ(key(whole->scan(piece)), key(windowed->scan(piece))) << "at " << at;
  }
}

}  // namespace
}  // namespace llmtap::policy
