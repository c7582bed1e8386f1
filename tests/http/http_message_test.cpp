#include "http/http_message.h"

#include <gtest/gtest.h>

#include <string>

namespace llmtap::http {
namespace {

bool reference_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Every pair of byte values, at every place of texts of lengths around one and two words (so
// both the eight-byte steps and the tail compare them), against byte-by-byte lowering.
TEST(AsciiIequals, AgreesWithLoweringByteByByteForEveryBytePairAndPlace) {
  size_t disagreements = 0;
  for (const size_t length : {1, 7, 8, 9, 16, 17, 19}) {
    for (size_t place = 0; place < length; ++place) {
      std::string a(length, 'k');
      std::string b(length, 'K');
      for (int x = 0; x < 256; ++x) {
        for (int y = 0; y < 256; ++y) {
          a[place] = static_cast<char>(x);
          b[place] = static_cast<char>(y);
          if (ascii_iequals(a, b) != reference_iequals(a, b)) ++disagreements;
        }
      }
    }
  }
  EXPECT_EQ(disagreements, 0u);
}

TEST(AsciiIequals, HeaderNames) {
  EXPECT_TRUE(ascii_iequals("Content-Length", "content-length"));
  EXPECT_TRUE(ascii_iequals("TRANSFER-ENCODING", "transfer-encoding"));
  EXPECT_FALSE(ascii_iequals("content-length", "content-lengtH2"));
  EXPECT_FALSE(ascii_iequals("content-lengtj", "content-length"));
  EXPECT_FALSE(ascii_iequals("x-api-key@", "x-api-key`"));  // '@' | 0x20 is '`': not a letter
  EXPECT_FALSE(ascii_iequals("\xC1uthorization", "\xE1uthorization"));  // above ASCII: as is
  EXPECT_TRUE(ascii_iequals("", ""));
}

}  // namespace
}  // namespace llmtap::http
