// The run gate's two sides: what runs every match of a pattern holds (pattern_runs.h), and a
// text's longest runs (byte_class_runs.h); together they may only skip texts with no match.

#include <gtest/gtest.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <random>
#include <string>

#include "policy/detection/byte_class_runs.h"
#include "policy/detection/detector_catalog.h"
#include "policy/detection/pattern_runs.h"

using namespace llmtap::policy;

namespace {

ByteSet set_of(std::string_view members) {
  ByteSet s;
  for (const char c : members) s.set(static_cast<unsigned char>(c));
  return s;
}

const ByteSet kDigits = set_of("0123456789");
const ByteSet kDigitsDash = set_of("0123456789-");
const ByteSet kLetters = set_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

uint16_t run(std::string_view pattern, const ByteSet& cls) {
  const auto r = guaranteed_runs(pattern, std::array<ByteSet, 1>{cls});
  EXPECT_TRUE(r.has_value()) << pattern;
  return r ? (*r)[0] : 0;
}

// The longest run of `cls` in `text`, byte by byte.
uint32_t reference_longest(std::string_view text, const ByteSet& cls) {
  uint32_t best = 0, current = 0;
  for (const char c : text) {
    current = cls.test(static_cast<unsigned char>(c)) ? current + 1 : 0;
    best = std::max(best, current);
  }
  return best;
}

}  // namespace

TEST(PatternRuns, ConcatenationsJoinRunsAcrossParts) {
  EXPECT_EQ(run("[0-9]{3}-[0-9]{2}-[0-9]{4}", kDigits), 4);
  EXPECT_EQ(run("[0-9]{3}-[0-9]{2}-[0-9]{4}", kDigitsDash), 11);
  EXPECT_EQ(run(R"(\d\d\d)", kDigits), 3);
  EXPECT_EQ(run("ab12cd", kDigits), 2);
  EXPECT_EQ(run("ab12cd", kLetters), 2);
  EXPECT_EQ(run("(?:^|x)[0-9]{5}(?:$|y)", kDigits), 5);
  EXPECT_EQ(run(R"(\b[0-9]+\b)", kDigits), 1);
}

TEST(PatternRuns, OptionalPartsBreakRunsUnlessWhollyOfTheClass) {
  EXPECT_EQ(run("[0-9]{4}[ -]?[0-9]{4}", kDigits), 4);
  EXPECT_EQ(run("[0-9]{4}-?[0-9]{4}", kDigitsDash), 8);
  EXPECT_EQ(run("[0-9]{4}(?:[0-9]{2})?[0-9]{4}", kDigits), 8);
  EXPECT_EQ(run("[0-9]{4}x*[0-9]{4}", kDigits), 4);
  EXPECT_EQ(run("x?", kDigits), 0);
}

TEST(PatternRuns, AlternativesGuaranteeOnlyTheirLeast) {
  EXPECT_EQ(run("[0-9]{9}|[0-9]{5}", kDigits), 5);
  EXPECT_EQ(run("(?:[0-9]{9}|abc)", kDigits), 0);
  EXPECT_EQ(run("([0-9]{3}|[0-9]{6})[0-9]{2}", kDigits), 5);
}

TEST(PatternRuns, RepetitionsMultiplyWholeRunsAndJoinEdges) {
  EXPECT_EQ(run("(?:[0-9]{2}){3}", kDigits), 6);
  EXPECT_EQ(run("(?:[0-9]{2}x[0-9]{3}){4}", kDigits), 5);  // "...3 digits" then "2 digits..."
  EXPECT_EQ(run("(?:[0-9]{2}x[0-9]{3}){1}", kDigits), 3);
  EXPECT_EQ(run("[0-9]+", kDigits), 1);
  EXPECT_EQ(run("[0-9]{2,}", kDigits), 2);
  EXPECT_EQ(run("[0-9]{3,9}?", kDigits), 3);
  EXPECT_EQ(run("[0-9]{1000000}", kDigits), 65535);  // saturated
}

TEST(PatternRuns, WhatCannotBeReadExactlyCountsAsOutsideEveryClass) {
  EXPECT_EQ(run("[^a-z]{8}", kDigits), 0);
  EXPECT_EQ(run(".{8}", kDigits), 0);
  EXPECT_EQ(run(R"(\D{8})", kDigits), 0);
  EXPECT_EQ(run(R"(\pN{8})", kDigits), 0);
  EXPECT_EQ(run("[[:digit:]]{8}", kDigits), 0);
  // Caseless: k and s also match U+212A and U+017F (3 bytes each, outside any ASCII class).
  EXPECT_EQ(run("(?i)abc", kLetters), 3);
  EXPECT_EQ(run("(?i)ask", kLetters), 1);
  EXPECT_EQ(run("(?i)[a-j]{4}", kLetters), 4);
  EXPECT_EQ(run("(?i)[a-z]{4}", kLetters), 0);
  EXPECT_EQ(run("(?i:ab)[0-9]", set_of("abAB0123456789")), 3);
  // A flag group ends with its group.
  EXPECT_EQ(run("(?:(?i)s)kk", kLetters), 2);
  EXPECT_EQ(run("\xC3\xA9\xC3\xA9", kLetters), 0);
  EXPECT_EQ(run(R"(\x{41}\x42C)", kLetters), 3);
  EXPECT_EQ(run(R"(\Qab.c\E)", kLetters), 2);
  EXPECT_EQ(run(R"(\s{3})", set_of(" \t\n\v\f\r")), 3);
  EXPECT_EQ(run(R"(\s{3})", set_of(" \t\n\f\r")), 0);  // \s may hold \v here: not guaranteed
}

TEST(PatternRuns, UnreadablePatternsGuaranteeNothing) {
  for (const char* p : {"(ab", "[ab", R"(\)", "(?y)a", R"(\x{zz})", R"(a\q)"}) {
    EXPECT_FALSE(guaranteed_runs(p, std::array<ByteSet, 1>{kDigits}).has_value()) << p;
  }
  std::string deep(1000, '(');
  deep += std::string(1000, ')');
  EXPECT_FALSE(guaranteed_runs(deep, std::array<ByteSet, 1>{kDigits}).has_value());
}

TEST(PatternRuns, EveryBuiltinPatternWithoutALiteralIsGatedByARun) {
  // The detectors whose scan gate is their own Hyperscan pattern: each must guarantee a run
  // that ordinary prose rarely has, or the gate would pass them over every text.
  const std::map<std::string, std::pair<size_t, uint16_t>> expected = {
      {"payment-card", {2, 14}},     {"us-ssn", {2, 11}},
      {"phone", {2, 9}},             {"ipv4-address", {3, 7}},
      {"iban", {4, 12}},             {"ipv6-address", {1, 6}},
      {"bulk-base64-blob", {6, 64}}, {"twilio-api-key", {1, 32}},
      {"facebook-app-access-token", {0, 15}}, {"discord-bot-token", {5, 24}},
  };
  size_t seen = 0;
  for (const auto& d : builtin_detectors()) {
    const auto it = expected.find(d.id);
    if (it == expected.end()) continue;
    ++seen;
    const auto runs = guaranteed_runs(d.pattern, gate_classes());
    ASSERT_TRUE(runs.has_value()) << d.id;
    EXPECT_GE((*runs)[it->second.first], it->second.second) << d.id;
  }
  EXPECT_EQ(seen, expected.size());
}

// Every match RE2 finds of a built-in detector's pattern in every detector's positive
// examples and in random texts holds the runs the pattern is said to guarantee.
TEST(PatternRuns, MatchesHoldTheGuaranteedRuns) {
  std::mt19937 random(3);
  const std::string alphabet = "0123456789abcdefABCDEF -./:+()_=|%xyzXYZ";
  std::vector<std::string> texts;
  for (int i = 0; i < 3000; ++i) {
    std::string t;
    const size_t n = 8 + random() % 120;
    for (size_t k = 0; k < n; ++k) t += alphabet[random() % alphabet.size()];
    texts.push_back(t);
  }
  for (const char* file : {LLMTAP_DETECTOR_EXAMPLES "/examples.yaml",
                           LLMTAP_DETECTOR_EXAMPLES "/content_examples.yaml"}) {
    for (const auto& example : YAML::LoadFile(file)["examples"]) {
      for (const auto& t : example["positive"]) texts.push_back(t.as<std::string>());
    }
  }
  texts.push_back("4111 1111 1111 1111 and 378282246310005 and 3056-930902-5904");
  texts.push_back("call +14155552671 or (415) 555-2671 or 415.555.2671, ssn 123-45-6789");
  texts.push_back("hosts 8.8.8.8, 2001:db8::1, 2a00:1450:4001:81c::200e; DE89 3704 0044 0532 0130 00");
  size_t matches = 0;
  for (const auto& d : builtin_detectors()) {
    const auto runs = guaranteed_runs(d.pattern, gate_classes());
    if (!runs) continue;
    const RE2 whole("(" + d.pattern + ")");  // group 1: the whole match
    ASSERT_TRUE(whole.ok()) << d.id;
    for (const auto& t : texts) {
      re2::StringPiece input(t), match;
      while (RE2::FindAndConsume(&input, whole, &match) && !match.empty()) {
        ++matches;
        for (size_t c = 0; c < kGateClassCount; ++c) {
          EXPECT_GE(reference_longest(std::string_view(match.data(), match.size()),
                                      gate_classes()[c]),
                    (*runs)[c])
              << d.id << " class " << c << " match " << std::string(match);
        }
      }
    }
  }
  EXPECT_GT(matches, 400u);
}

// Each way of classifying this CPU has gives, per class, the largest threshold that the
// text's longest run (counted byte by byte) reaches.
void expect_every_kernel_counts(const std::string& t, const RunThresholds& thresholds) {
  for (const ByteClassKernel kernel : byte_class_kernels()) {
    const ClassRuns got = class_runs_reached(t, thresholds, kernel);
    for (size_t c = 0; c < kGateClassCount; ++c) {
      const uint32_t longest = reference_longest(t, text_classes()[c]);
      uint32_t expected = 0;
      for (const uint32_t th : thresholds[c]) {
        if (longest >= th) expected = th;
      }
      ASSERT_EQ(got[c], expected) << "kernel " << static_cast<int>(kernel) << " class " << c
                                  << " longest " << longest << " text " << t;
    }
  }
}

TEST(ByteClassRuns, ThresholdsReachedAgreeWithCountingByteByByte) {
  std::mt19937 random(7);
  const std::string alphabet = "0123456789abcdefABCXYZ :.-+/_()=\xC3\xA9\n";
  RunThresholds thresholds;
  for (auto& t : thresholds) t = {1, 2, 3, 5, 9, 14, 24, 63, 64, 65, 100, 129};
  for (int i = 0; i < 3000; ++i) {
    std::string t;
    const size_t n = random() % 400;
    // Long runs of one byte now and then, across 64-byte blocks.
    for (size_t k = 0; k < n; ++k) {
      if (random() % 50 == 0) {
        t += std::string(random() % 150, alphabet[random() % alphabet.size()]);
      } else {
        t += alphabet[random() % alphabet.size()];
      }
    }
    ASSERT_NO_FATAL_FAILURE(expect_every_kernel_counts(t, thresholds));
  }
}

// Every run length a threshold can ask for within two blocks, each at several offsets: the
// exact largest threshold reached (a threshold of 40 met by a run of 39 or missed by one of
// 40 shows here).
TEST(ByteClassRuns, EveryThresholdUpToSixtySixIsExact) {
  RunThresholds all;
  for (auto& t : all) {
    for (uint32_t n = 1; n <= 66; ++n) t.push_back(n);
  }
  for (size_t length = 1; length <= 70; ++length) {
    for (size_t offset = 0; offset < 64; offset += 9) {
      for (const char member : {'5', 'c', 'Q', '+'}) {
        const std::string t =
            std::string(offset, '\n') + std::string(length, member) + "\n" + std::string(3, member);
        ASSERT_NO_FATAL_FAILURE(expect_every_kernel_counts(t, all));
      }
    }
  }
}

// Thresholds that start above 64 bytes, or jump past it, and runs around them placed at every
// offset of a block: runs over 64 bytes are counted across blocks, not within one.
TEST(ByteClassRuns, RunsOverSixtyFourBytesAreCountedAcrossBlocks) {
  RunThresholds from_above;
  for (auto& t : from_above) t = {65, 100, 128, 129, 300};
  RunThresholds jumping;
  for (auto& t : jumping) t = {2, 64, 65, 191, 192, 193};
  for (const size_t length : {63, 64, 65, 99, 100, 128, 129, 191, 192, 193, 299, 300, 301}) {
    for (size_t offset = 0; offset < 64; offset += 7) {
      for (const char member : {'7', 'a', 'Z', '/'}) {
        const std::string t = std::string(offset, '\n') + std::string(length, member) + "\n" +
                              std::string(length / 2, member) + "\n\n";
        ASSERT_NO_FATAL_FAILURE(expect_every_kernel_counts(t, from_above));
        ASSERT_NO_FATAL_FAILURE(expect_every_kernel_counts(t, jumping));
      }
    }
  }
}

// Every byte value, through each way of classifying this CPU has: the same runs as counting
// byte by byte (bytes with the top bit set must fall outside every class, whatever the
// vector instructions make of them).
TEST(ByteClassRuns, EveryKernelAgreesOnArbitraryBytes) {
  std::mt19937 random(11);
  RunThresholds thresholds;
  for (auto& t : thresholds) t = {1, 2, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 200};
  const std::vector<ByteClassKernel> kernels = byte_class_kernels();
  ASSERT_FALSE(kernels.empty());
  EXPECT_EQ(kernels.front(), ByteClassKernel::kScalar);
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) {
    EXPECT_EQ(kernels.back(), ByteClassKernel::kAvx2);
  }
#endif
  for (int i = 0; i < 3000; ++i) {
    std::string t;
    const size_t n = random() % 600;
    // Either any byte, or a few bytes around one class's edge, with long runs now and then.
    const std::string edge = "/09:@AFGZ[`afgz{-_+. ()\x7f\x80\xb0\xff";
    const bool any = random() % 2 == 0;
    for (size_t k = 0; k < n; ++k) {
      const char b = any ? static_cast<char>(random() % 256) : edge[random() % edge.size()];
      t += random() % 40 == 0 ? std::string(random() % 140, b) : std::string(1, b);
    }
    ASSERT_NO_FATAL_FAILURE(expect_every_kernel_counts(t, thresholds));
  }
}

// The text side may count more bytes into a class than patterns are read against (that only
// lengthens runs), never fewer; and it stays close: prose's letters and spaces stay out of
// the classes they are not in.
TEST(ByteClassRuns, TextClassesHoldThePatternClasses) {
  for (size_t c = 0; c < kGateClassCount; ++c) {
    EXPECT_EQ((gate_classes()[c] & ~text_classes()[c]).count(), 0u) << "class " << c;
    EXPECT_FALSE(text_classes()[c].test(0)) << "class " << c;
    EXPECT_FALSE(text_classes()[c].test(0x80)) << "class " << c;
  }
  EXPECT_EQ(text_classes()[0], gate_classes()[0]);  // digits: exact
  for (const char c : std::string("klmnopqrstuvwxyz")) {
    for (const size_t k : {0, 1, 2, 3, 4}) EXPECT_FALSE(text_classes()[k].test(c)) << k << c;
  }
  for (const size_t k : {0, 1, 5, 6}) EXPECT_FALSE(text_classes()[k].test(' ')) << k;
}

TEST(ByteClassRuns, ClassesWithoutThresholdsAreNotFollowed) {
  RunThresholds thresholds;
  thresholds[0] = {5, 20};
  const ClassRuns got = class_runs_reached("abc 0123456789012 def", thresholds);
  EXPECT_EQ(got[0], 5u);
  for (size_t c = 1; c < kGateClassCount; ++c) EXPECT_EQ(got[c], 0u);
  EXPECT_EQ(class_runs_reached("", thresholds)[0], 0u);
  EXPECT_EQ(class_runs_reached(std::string(200, '7'), thresholds)[0], 20u);
  EXPECT_EQ(class_runs_reached(std::string(19, '7'), thresholds)[0], 5u);
}
