#include "llm/key_fingerprint_memo.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/sha256.h"

namespace llmtap::llm {
namespace {

TEST(KeyFingerprintMemo, EveryAnswerIsTheKeysOwnHash) {
  std::mt19937 random(3);
  std::vector<std::string> keys;
  for (int i = 0; i < 9; ++i) keys.push_back("sk-proj-" + std::string(20 + i, 'a' + i));
  keys.push_back("sk-proj-" + std::string(20, 'a') + "x");  // one key a prefix of another
  keys.push_back(std::string(KeyFingerprintMemo::kMaxKeyBytes + 1, 'k'));
  KeyFingerprintMemo memo;
  for (int i = 0; i < 2000; ++i) {
    // Mostly a few keys over and over, now and then any of them.
    const std::string& key = keys[random() % 4 == 0 ? random() % keys.size() : random() % 3];
    ASSERT_EQ(memo.sha256_hex_of(key), sha256_hex(key)) << key;
  }
  EXPECT_GT(memo.hits(), 1000u);
}

TEST(KeyFingerprintMemo, OnlyAnEqualKeyIsAHit) {
  KeyFingerprintMemo memo;
  EXPECT_EQ(memo.sha256_hex_of("sk-one"), sha256_hex("sk-one"));
  EXPECT_EQ(memo.hits(), 0u);
  EXPECT_EQ(memo.sha256_hex_of("sk-one"), sha256_hex("sk-one"));
  EXPECT_EQ(memo.hits(), 1u);
  EXPECT_EQ(memo.sha256_hex_of("sk-on"), sha256_hex("sk-on"));
  EXPECT_EQ(memo.sha256_hex_of("sk-one2"), sha256_hex("sk-one2"));
  EXPECT_EQ(memo.hits(), 1u);
  // Past its entries, the oldest key is hashed again.
  for (const char* k : {"a", "b", "c", "d"}) memo.sha256_hex_of(k);
  EXPECT_EQ(memo.sha256_hex_of("sk-one"), sha256_hex("sk-one"));
  EXPECT_EQ(memo.hits(), 1u);
  const std::string longest(KeyFingerprintMemo::kMaxKeyBytes + 10, 'z');
  EXPECT_EQ(memo.sha256_hex_of(longest), sha256_hex(longest));
  EXPECT_EQ(memo.sha256_hex_of(longest), sha256_hex(longest));
  EXPECT_EQ(memo.hits(), 1u);
}

}  // namespace
}  // namespace llmtap::llm
