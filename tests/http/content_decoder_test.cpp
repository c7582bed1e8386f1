#include "http/content_decoder.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>

#include "compress_for_tests.h"

namespace llmtap::http {
namespace {

using test::brotli_compress;
using test::gzip_compress;
using test::raw_deflate_compress;
using test::zlib_compress;
using test::zstd_compress;

constexpr size_t kLimit = 1 << 20;

std::string sample_text() {
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text +=
        "data: {\"choices\":[{\"delta\":{\"content\":\"token " + std::to_string(i) + "\"}}]}\n\n";
  }
  return text;
}

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

struct Codec {
  const char* name;
  std::function<std::string(std::string_view)> compress;
};

class RoundTrip : public ::testing::TestWithParam<Codec> {};

TEST_P(RoundTrip, DecodesWhatTheLibraryEncoded) {
  const std::string text = sample_text();
  const DecodedContent decoded = decode_content(GetParam().compress(text), GetParam().name, kLimit);
  EXPECT_EQ(decoded.error, "");
  EXPECT_FALSE(decoded.truncated);
  EXPECT_EQ(decoded.bytes, text);
}

TEST_P(RoundTrip, EmptyBodyDecodes) {
  const DecodedContent decoded = decode_content(GetParam().compress(""), GetParam().name, kLimit);
  EXPECT_EQ(decoded.error, "");
  EXPECT_EQ(decoded.bytes, "");
}

TEST_P(RoundTrip, IncompressibleDataRoundTrips) {
  const std::string data = random_bytes(300000, 7);
  const DecodedContent decoded = decode_content(GetParam().compress(data), GetParam().name, kLimit);
  EXPECT_EQ(decoded.error, "");
  EXPECT_EQ(decoded.bytes, data);
}

TEST_P(RoundTrip, CutInputIsAnErrorUnlessTheBodyWasKnownToBeCut) {
  const std::string text = sample_text();
  const std::string compressed = GetParam().compress(text);
  const std::string cut = compressed.substr(0, compressed.size() / 2);

  const DecodedContent as_error = decode_content(cut, GetParam().name, kLimit);
  EXPECT_NE(as_error.error, "");
  EXPECT_TRUE(text.starts_with(as_error.bytes));

  const DecodedContent as_cut = decode_content(cut, GetParam().name, kLimit, true);
  EXPECT_EQ(as_cut.error, "");
  EXPECT_TRUE(as_cut.truncated);
  EXPECT_TRUE(text.starts_with(as_cut.bytes));
}

TEST_P(RoundTrip, CorruptInputIsAnErrorNotACrash) {
  std::string compressed = GetParam().compress(sample_text());
  for (size_t i = 10; i < compressed.size(); i += 7)
    compressed[i] = static_cast<char>(~compressed[i]);
  const DecodedContent decoded = decode_content(compressed, GetParam().name, kLimit);
  EXPECT_NE(decoded.error, "");
  EXPECT_LE(decoded.bytes.size(), kLimit);
}

TEST_P(RoundTrip, BombStopsAtTheLimit) {
  const std::string zeros(64 << 20, '\0');  // 64 MiB that compress to little
  const std::string bomb = GetParam().compress(zeros);
  ASSERT_LT(bomb.size(), 1u << 20);
  const DecodedContent decoded = decode_content(bomb, GetParam().name, 100000);
  EXPECT_EQ(decoded.error, "");
  EXPECT_TRUE(decoded.truncated);
  EXPECT_EQ(decoded.bytes, std::string(100000, '\0'));
}

TEST_P(RoundTrip, OutputExactlyAtTheLimitIsNotTruncated) {
  const std::string text = sample_text();
  const DecodedContent decoded =
      decode_content(GetParam().compress(text), GetParam().name, text.size());
  EXPECT_EQ(decoded.error, "");
  EXPECT_FALSE(decoded.truncated);
  EXPECT_EQ(decoded.bytes, text);
}

INSTANTIATE_TEST_SUITE_P(
    Codings, RoundTrip,
    ::testing::Values(Codec{"gzip", gzip_compress}, Codec{"x-gzip", gzip_compress},
                      Codec{"deflate", zlib_compress}, Codec{"deflate", raw_deflate_compress},
                      Codec{"br", brotli_compress}, Codec{"zstd", zstd_compress}));

TEST(ContentDecoder, IdentityAndEmptyPassThrough) {
  for (const char* encoding : {"", "identity", " Identity ", ","}) {
    const DecodedContent decoded = decode_content("plain", encoding, kLimit);
    EXPECT_EQ(decoded.bytes, "plain") << encoding;
    EXPECT_EQ(decoded.error, "");
    EXPECT_TRUE(is_identity_encoding(encoding));
  }
  EXPECT_FALSE(is_identity_encoding("gzip"));
  const DecodedContent cut = decode_content("plain text", "identity", 5);
  EXPECT_EQ(cut.bytes, "plain");
  EXPECT_TRUE(cut.truncated);
}

TEST(ContentDecoder, CodingNamesAreCaseInsensitive) {
  EXPECT_EQ(decode_content(gzip_compress("hello"), "GZip", kLimit).bytes, "hello");
  EXPECT_EQ(decode_content(brotli_compress("hello"), " BR ", kLimit).bytes, "hello");
}

TEST(ContentDecoder, ChainIsUndoneInReverseOrder) {
  const std::string text = sample_text();
  // "gzip, br": gzip was applied first, then br.
  const std::string encoded = brotli_compress(gzip_compress(text));
  const DecodedContent decoded = decode_content(encoded, "gzip, br", kLimit);
  EXPECT_EQ(decoded.error, "");
  EXPECT_EQ(decoded.bytes, text);

  const std::string three = zstd_compress(zlib_compress(gzip_compress(text)));
  EXPECT_EQ(decode_content(three, "gzip,deflate,identity,zstd", kLimit).bytes, text);
}

TEST(ContentDecoder, ChainedBombStopsAtTheLimit) {
  const std::string zeros(32 << 20, '\0');
  const std::string bomb = gzip_compress(gzip_compress(zeros));
  const DecodedContent decoded = decode_content(bomb, "gzip, gzip", 4096);
  EXPECT_TRUE(decoded.truncated);
  EXPECT_EQ(decoded.error, "");
  EXPECT_EQ(decoded.bytes, std::string(4096, '\0'));
}

TEST(ContentDecoder, TooManyCodingsAreRefused) {
  const DecodedContent decoded = decode_content("x", "gzip,gzip,gzip,gzip,gzip", kLimit);
  EXPECT_NE(decoded.error, "");
  EXPECT_EQ(decoded.bytes, "x");
}

TEST(ContentDecoder, UnknownCodingIsAnErrorAndKeepsTheBytes) {
  const DecodedContent decoded = decode_content("raw", "compress", kLimit);
  EXPECT_EQ(decoded.error, "unsupported content coding: compress");
  EXPECT_EQ(decoded.bytes, "raw");
  // In a chain, the bytes are those the unknown coding would have had to undo.
  const DecodedContent chained = decode_content(gzip_compress("inner"), "snappy, gzip", kLimit);
  EXPECT_EQ(chained.error, "unsupported content coding: snappy");
  EXPECT_EQ(chained.bytes, "inner");
}

TEST(ContentDecoder, ConcatenatedGzipMembersAreAllDecoded) {
  const std::string two = gzip_compress("first ") + gzip_compress("second");
  EXPECT_EQ(decode_content(two, "gzip", kLimit).bytes, "first second");
}

TEST(ContentDecoder, ConcatenatedZstdFramesAreAllDecoded) {
  const std::string two = zstd_compress("first ") + zstd_compress("second");
  EXPECT_EQ(decode_content(two, "zstd", kLimit).bytes, "first second");
}

TEST(ContentDecoder, GarbageIsAnErrorForEveryCoding) {
  const std::string garbage = random_bytes(5000, 3);
  for (const char* coding : {"gzip", "deflate", "br", "zstd"}) {
    const DecodedContent decoded = decode_content(garbage, coding, kLimit);
    EXPECT_NE(decoded.error, "") << coding;
    EXPECT_LE(decoded.bytes.size(), kLimit);
  }
}

TEST(ContentDecoder, ZeroLimitKeepsNothing) {
  const DecodedContent decoded = decode_content(gzip_compress("abc"), "gzip", 0);
  EXPECT_EQ(decoded.bytes, "");
  EXPECT_TRUE(decoded.truncated);
  EXPECT_EQ(decoded.error, "");
}

}  // namespace
}  // namespace llmtap::http
