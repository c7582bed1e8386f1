#include "policy/detection/content_scanner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace llmtap::policy {
namespace {

DetectorSpec detector(std::string id, std::string pattern) {
  DetectorSpec d;
  d.id = std::move(id);
  d.pattern = std::move(pattern);
  return d;
}

TEST(ContentScanner, FindsRedactsAndFingerprintsWithoutKeepingTheSecret) {
  auto d = detector("aws-access-key-id", R"(\b((?:AKIA|ASIA)[A-Z2-7]{16})\b)");
  d.secret_group = 1;
  const auto scanner = ContentScanner::build({d});
  const std::string text = "creds: aws_access_key_id=AKIA2OGYBAH6RVPSVMXQ and more";
  const auto result = scanner->scan(text);
  ASSERT_EQ(result.detections.size(), 1u);
  const Detection& hit = result.detections[0];
  EXPECT_EQ(hit.detector_id, "aws-access-key-id");
  EXPECT_EQ(text.substr(hit.offset, hit.length), "AKIA2OGYBAH6RVPSVMXQ");
  EXPECT_EQ(hit.redacted, "AKIA************VMXQ");
  EXPECT_EQ(hit.fingerprint.size(), 12u);
  EXPECT_EQ(hit.redacted.find("2OGYBAH6RVPS"), std::string::npos);
}

TEST(ContentScanner, RedactionNeverShowsMoreThanAQuarter) {
  EXPECT_EQ(redact_secret("AKIAIOSFODNN7EXAMPLE"), "AKIA************MPLE");
  EXPECT_EQ(redact_secret("short"), "*****");
  EXPECT_EQ(redact_secret("12345678"), "12****78");
  EXPECT_EQ(redact_secret(""), "");
}

TEST(ContentScanner, ConfirmsWithEntropyStopwordsAllowPatternsAndKeywords) {
  auto d = detector("generic-token", R"((?i)token\s*=\s*([A-Za-z0-9]{20}))");
  d.secret_group = 1;
  d.min_entropy = 3.5;
  d.stopwords = {"example"};
  d.allow_patterns = {"^TEST"};
  const auto scanner = ContentScanner::build({d});
  EXPECT_EQ(scanner->scan("token = q8Zr3LmN0pX7vB2kT9sW").detections.size(), 1u);
  EXPECT_TRUE(scanner->scan("token = aaaaaaaaaaaaaaaaaaaa").detections.empty());   // entropy
  EXPECT_TRUE(scanner->scan("token = abcEXAMPLEdefghij1234").detections.empty());  // stopword
  EXPECT_TRUE(scanner->scan("token = TESTq8Zr3LmN0pX7vB2k").detections.empty());   // allowed

  auto k = detector("keyword-hex", R"(\b([0-9a-f]{32})\b)");
  k.secret_group = 1;
  k.keywords = {"datadog"};
  const auto keyed = ContentScanner::build({k});
  EXPECT_EQ(keyed->scan("DATADOG_API_KEY=5f0c7e3b1a9d4e2f8b6c0a7d3e1f9b2c").detections.size(), 1u);
  EXPECT_TRUE(keyed->scan("commit 5f0c7e3b1a9d4e2f8b6c0a7d3e1f9b2c").detections.empty());
}

TEST(ContentScanner, GitleaksStyleFirstMatchingGroup) {
  auto d = detector("either", R"((?:a=(\w{8})|b=(\w{8})))");
  d.secret_group = -1;
  const auto scanner = ContentScanner::build({d});
  const std::string text = "b=Zq81mXp0";
  const auto result = scanner->scan(text);
  ASSERT_EQ(result.detections.size(), 1u);
  EXPECT_EQ(text.substr(result.detections[0].offset, result.detections[0].length), "Zq81mXp0");
}

TEST(ContentScanner, ValidatorsDecide) {
  auto d = detector("payment-card", R"(\b(?:\d[ -]?){12,18}\d\b)");
  d.validator = Validator::kLuhn;
  d.category = DetectorCategory::kPersonalData;
  const auto scanner = ContentScanner::build({d});
  EXPECT_EQ(scanner->scan("card 4111 1111 1111 1111 exp 12/29").detections.size(), 1u);
  EXPECT_TRUE(scanner->scan("card 4111 1111 1111 1112 exp 12/29").detections.empty());
}

TEST(ContentScanner, PatternWithoutLiteralsIsReadByRe2EverywhereAndReported) {
  // No literal any match must contain: the prefilter cannot rule it out.
  auto d = detector("tag-chars", R"([\x{E0020}-\x{E007F}]{3,})");
  std::vector<DetectorProblem> problems;
  const auto scanner =
      ContentScanner::build({d, detector("gh", R"(ghp_[A-Za-z0-9]{36})")}, &problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].detector_id, "tag-chars");
  EXPECT_FALSE(problems[0].fatal);
  EXPECT_NE(problems[0].message.find("no literal"), std::string::npos);
  // U+E0041 U+E0042 U+E0043 in UTF-8.
  EXPECT_EQ(
      scanner->scan("hi \xF3\xA0\x81\x81\xF3\xA0\x81\x82\xF3\xA0\x81\x83 there").detections.size(),
      1u);
}

TEST(ContentScanner, BadPatternIsAFatalProblemNotACrash) {
  std::vector<DetectorProblem> problems;
  const auto scanner =
      ContentScanner::build({detector("bad", "(unclosed"), detector("good", "xyz")}, &problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(problems[0].fatal);
  EXPECT_EQ(scanner->detector_count(), 1u);
  EXPECT_THROW(ContentScanner::build({detector("same", "a"), detector("same", "b")}),
               std::invalid_argument);
}

TEST(ContentScanner, EveryMatchOnceInOrderAndBounded) {
  auto d = detector("gh", R"(\bghp_[A-Za-z0-9]{36}\b)");
  ScannerLimits limits;
  limits.max_detections = 5;
  const auto scanner = ContentScanner::build({d}, nullptr, limits);
  std::string text;
  for (int i = 0; i < 8; ++i) text += " ghp_" + std::string(36, static_cast<char>('a' + i));
  const auto result = scanner->scan(text);
  ASSERT_EQ(result.detections.size(), 5u);
  EXPECT_EQ(result.dropped, 3u);
  for (size_t i = 1; i < result.detections.size(); ++i) {
    EXPECT_LT(result.detections[i - 1].offset, result.detections[i].offset);
  }
}

TEST(ContentScanner, GarbageAndHugeInputsAreScannedNotCrashedOn) {
  const auto scanner = ContentScanner::build(
      {detector("gh", R"(\bghp_[A-Za-z0-9]{36}\b)"), detector("b64", "[A-Za-z0-9+/]{200,}")});
  std::mt19937 random(7);
  std::string garbage(4 << 20, '\0');
  for (char& c : garbage) c = static_cast<char>(random());
  EXPECT_NO_THROW(scanner->scan(garbage));
  // A long base64 run: one detection, not one per position.
  const std::string blob(1 << 20, 'A');
  EXPECT_EQ(scanner->scan(blob).detections.size(), 1u);
  EXPECT_TRUE(scanner->scan("").detections.empty());
}

TEST(ContentScanner, Entropy) {
  EXPECT_DOUBLE_EQ(shannon_entropy("aaaa"), 0.0);
  EXPECT_DOUBLE_EQ(shannon_entropy("ab"), 1.0);
  EXPECT_NEAR(shannon_entropy("0123456789abcdef"), 4.0, 1e-9);
}

}  // namespace
}  // namespace llmtap::policy

namespace llmtap::policy {
namespace {

// A detector whose prefilter formula needs atoms of two groups (an AND of two ORs, 20 atoms):
// the scanner remembers the formula's answers per set of atoms seen. Over texts made of
// random words of both groups (many sets, the same sets again, entries replaced), scanned by
// four threads at once, it finds exactly what RE2 reading every text whole finds.
TEST(ContentScanner, RememberedFormulaAnswersAgreeWithReadingWhole) {
  const std::vector<std::string> verbs = {"ignore", "forget", "disregard", "bypass", "override",
                                          "skip",   "drop",   "erase",     "remove", "cancel"};
  const std::vector<std::string> objects = {"rules",   "guards",  "filters", "limits",
                                            "checks",  "prompts", "orders",  "policies",
                                            "systems", "safeties"};
  std::string pattern = "(?i)(";
  for (size_t i = 0; i < verbs.size(); ++i) pattern += (i ? "|" : "") + verbs[i];
  pattern += R"()\s+(?:all\s+)?(?:the\s+)?(?:previous\s+)?()";
  for (size_t i = 0; i < objects.size(); ++i) pattern += (i ? "|" : "") + objects[i];
  pattern += ")";
  std::vector<DetectorSpec> specs = {detector("two-groups", pattern)};
  ScannerLimits whole_limits;
  whole_limits.prefilter = false;
  const auto whole = ContentScanner::build(specs, nullptr, whole_limits);
  const auto windowed = ContentScanner::build(specs);

  std::vector<std::string> texts;
  std::mt19937 random(5);
  const std::vector<std::string> glue = {" ", " all the ", " the previous ", ", ", " and "};
  for (int i = 0; i < 600; ++i) {
    std::string t;
    const size_t words = 1 + random() % 12;
    for (size_t w = 0; w < words; ++w) {
      const auto& group = random() % 2 ? verbs : objects;
      t += group[random() % (random() % 3 == 0 ? group.size() : 3)];
      t += glue[random() % glue.size()];
    }
    texts.push_back(t);
  }
  auto key = [](const ScanResult& r) {
    std::vector<std::tuple<std::string, size_t, size_t>> out;
    for (const auto& d : r.detections) out.emplace_back(d.detector_id, d.offset, d.length);
    return out;
  };
  std::vector<std::vector<std::tuple<std::string, size_t, size_t>>> expected;
  size_t found = 0;
  for (const auto& t : texts) {
    expected.push_back(key(whole->scan(t)));
    found += expected.back().empty() ? 0 : 1;
  }
  ASSERT_GT(found, 100u);
  ASSERT_LT(found, texts.size() - 50);  // and many texts where the formula fails
  std::atomic<size_t> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) {
          const size_t k = (i * (t + 1) + round) % texts.size();
          if (key(windowed->scan(texts[k])) != expected[k]) ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0u);
}

}  // namespace
}  // namespace llmtap::policy
