// sha256_hex uses OpenSSL's one-shot SHA256_* functions on the stack: the digests must be the
// standard ones, call after call and on every thread.
#include "common/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace llmtap {
namespace {

TEST(Sha256Hex, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  EXPECT_EQ(sha256_hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Hex, SameAnswerCallAfterCallAndOnEveryThread) {
  const std::string expected = sha256_hex("sk-proj-example");
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(sha256_hex("sk-proj-example"), expected);
  std::vector<std::thread> threads;
  std::vector<std::string> got(4);
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) got[t] = sha256_hex("sk-proj-example");
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, expected);
}

}  // namespace
}  // namespace llmtap
