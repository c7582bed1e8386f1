// Every built-in detector against its own examples (tests/data/detectors/examples.yaml: fake
// values in the real formats), and the full set against 2.3 MB of clean prompts.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "policy/detection/content_scanner.h"
#include "policy/detection/detector_catalog.h"

namespace llmtap::policy {
namespace {

std::shared_ptr<const ContentScanner> builtin_scanner() {
  static const auto scanner = [] {
    std::vector<DetectorProblem> problems;
    auto s = ContentScanner::build(builtin_detectors(), &problems);
    std::string unfiltered;
    for (const auto& p : problems) {
      if (p.fatal) ADD_FAILURE() << "built-in detector " << p.detector_id << ": " << p.message;
      if (!p.fatal) unfiltered += " " + p.detector_id;
    }
    // Only detectors with no literal to hold on to (digits, addresses, blobs) read every text.
    std::cout << "built-in detectors that RE2 reads everywhere:" << unfiltered << std::endl;
    return s;
  }();
  return scanner;
}

bool found_by(const ScanResult& r, const std::string& id) {
  for (const auto& d : r.detections) {
    if (d.detector_id == id) return true;
  }
  return false;
}

TEST(BuiltinDetectors, AtLeast150SecretDetectorsAllCompile) {
  size_t secrets = 0;
  std::map<DetectorCategory, size_t> by_category;
  for (const auto& d : builtin_detectors()) ++by_category[d.category];
  secrets = by_category[DetectorCategory::kSecret];
  EXPECT_GE(secrets, 150u);
  EXPECT_GE(by_category[DetectorCategory::kPersonalData], 6u);
  EXPECT_EQ(builtin_scanner()->detector_count(), builtin_detectors().size());
  std::cout << "built-in detectors: " << secrets << " secret, "
            << by_category[DetectorCategory::kPersonalData] << " personal data, "
            << by_category[DetectorCategory::kBulk] << " bulk, "
            << by_category[DetectorCategory::kPromptAttack] << " prompt attack; literal database "
            << builtin_scanner()->database_bytes() << " bytes" << std::endl;
}

TEST(BuiltinDetectors, EveryDetectorFindsItsPositivesAndNotItsNegatives) {
  std::set<std::string> with_examples;
  for (const char* file : {LLMTAP_DETECTOR_EXAMPLES "/examples.yaml",
                           LLMTAP_DETECTOR_EXAMPLES "/content_examples.yaml"}) {
    const YAML::Node root = YAML::LoadFile(file);
    for (const auto& example : root["examples"]) {
      const std::string id = example["detector"].as<std::string>();
      with_examples.insert(id);
      size_t positives = 0;
      for (const auto& text : example["positive"]) {
        ++positives;
        EXPECT_TRUE(found_by(builtin_scanner()->scan(text.as<std::string>()), id))
            << id << " missed: " << text.as<std::string>();
      }
      EXPECT_GE(positives, 1u) << id;
      for (const auto& text : example["negative"]) {
        EXPECT_FALSE(found_by(builtin_scanner()->scan(text.as<std::string>()), id))
            << id << " fired on: " << text.as<std::string>();
      }
    }
  }
  for (const auto& d : builtin_detectors()) {
    EXPECT_TRUE(with_examples.contains(d.id)) << d.id << " has no examples";
  }
}

// The scanner reads RE2 only in windows around trigger hits; reading every candidate whole
// must give exactly the same detections. Every positive example, between fillers of
// multi-byte text, invalid UTF-8 and digits, and the clean corpus.
TEST(BuiltinDetectors, WindowsFindExactlyWhatReadingWholeFinds) {
  ScannerLimits whole_limits;
  whole_limits.prefilter = false;
  whole_limits.max_detections = 1 << 20;
  ScannerLimits window_limits;
  window_limits.max_detections = 1 << 20;
  const auto whole = ContentScanner::build(builtin_detectors(), nullptr, whole_limits);
  const auto windowed = ContentScanner::build(builtin_detectors(), nullptr, window_limits);
  const std::string fillers[] = {" caf\xC3\xA9 ",    " \xE6\x97\xA5\xE6\x9C\xAC ",
                                 "\xF0\x9F\x94\x91", "\xFF\xFE",
                                 " 2024-01-05 ",     "\n",
                                 " key: ",           "@",
                                 " https://",        "\t\"",
                                 "0123456789"};
  std::string text;
  std::mt19937 random(11);
  for (const char* file : {LLMTAP_DETECTOR_EXAMPLES "/examples.yaml",
                           LLMTAP_DETECTOR_EXAMPLES "/content_examples.yaml"}) {
    for (const auto& example : YAML::LoadFile(file)["examples"]) {
      for (const auto& kind : {"positive", "negative"}) {
        for (const auto& t : example[kind]) {
          text += t.as<std::string>();
          text += fillers[random() % std::size(fillers)];
        }
      }
    }
  }
  std::ifstream in(LLMTAP_CLEAN_CORPUS, std::ios::binary);
  std::ostringstream clean;
  clean << in.rdbuf();
  text += clean.str().substr(0, 1 << 20);

  auto key = [](const ScanResult& r) {
    std::vector<std::tuple<std::string, size_t, size_t>> out;
    for (const auto& d : r.detections) out.emplace_back(d.detector_id, d.offset, d.length);
    return out;
  };
  // In pieces, as prompts come, and whole.
  for (const size_t piece : {size_t{700}, size_t{8192}, text.size()}) {
    for (size_t at = 0; at < text.size(); at += piece) {
      const std::string_view part = std::string_view(text).substr(at, piece);
      const ScanResult a = whole->scan(part);
      const ScanResult b = windowed->scan(part);
      ASSERT_EQ(key(a), key(b)) << "piece " << piece << " at " << at;
      EXPECT_LE(b.bytes_confirmed, a.bytes_confirmed);
    }
  }
}

TEST(BuiltinDetectors, CleanPromptsGiveNoHighOrCriticalDetection) {
  std::ifstream in(LLMTAP_CLEAN_CORPUS, std::ios::binary);
  if (!in) GTEST_SKIP() << "no clean corpus at " << LLMTAP_CLEAN_CORPUS;
  std::ostringstream text;
  text << in.rdbuf();
  const std::string corpus = text.str();
  ASSERT_GT(corpus.size(), 2'000'000u);
  // Prompt by prompt, as llmtap scans requests.
  std::map<std::string, size_t> lower;
  size_t start = 0;
  size_t prompts = 0;
  while (start < corpus.size()) {
    size_t end = corpus.find("\n=== prompt ", start + 1);
    if (end == std::string::npos) end = corpus.size();
    const std::string_view prompt(corpus.data() + start, end - start);
    ++prompts;
    for (const auto& d : builtin_scanner()->scan(prompt).detections) {
      if (d.severity >= Severity::kHigh && d.category != DetectorCategory::kPromptAttack) {
        ADD_FAILURE() << d.detector_id << " (" << severity_name(d.severity)
                      << ") on clean text: " << d.redacted;
      } else {
        ++lower[d.detector_id];
      }
    }
    start = end;
  }
  std::cout << "clean corpus: " << prompts << " prompts, " << corpus.size()
            << " bytes; detections below high:";
  for (const auto& [id, n] : lower) std::cout << " " << id << "=" << n;
  std::cout << std::endl;
}

}  // namespace
}  // namespace llmtap::policy

namespace llmtap::policy {
namespace {

// Prompt text shown under --include-content goes through the same detectors: an AWS secret
// key, a card number, a database password and a private key never pass in clear.
TEST(BuiltinDetectors, RedactionRemovesTheSecretsPromptsCarry) {
  const std::string aws_secret = "Zq8mN3vB7xK1pL9wR4tY6uI2oP5aS0dF8gH3jK7l";
  const std::string card = "4111 1111 1111 1111";
  const std::string db_password = "Tr0ub4dor3xyzzy";
  const std::string key_body =
      "MIIEowIBAAKCAQEAx7Lq9Hk2mZpQ4vT1bN8wR3cY6uJ0sD5fG9hK2lM4nP7qS1tV3wX5yZ8aB0cD2eF4gH6iJ8kL0mN"
      "2";
  const std::string text = "aws_secret_access_key = " + aws_secret + "\nbill card " + card +
                           "\npostgres://app:" + db_password + "@db.internal:5432/orders\n" +
                           "-----BEGIN RSA PRIVATE KEY-----\n" + key_body + "\n" +
                           "-----END RSA PRIVATE KEY-----\n";
  const std::string shown = builtin_scanner()->redact(text);
  for (const std::string& secret : {aws_secret, card, db_password, key_body}) {
    EXPECT_EQ(shown.find(secret), std::string::npos) << secret.substr(0, 6) << " shown:\n" << shown;
  }
  EXPECT_NE(shown.find("bill card"), std::string::npos);  // the rest stays readable
}

}  // namespace
}  // namespace llmtap::policy
