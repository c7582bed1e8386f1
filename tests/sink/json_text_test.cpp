#include "sink/json_text.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "common/utf8.h"

namespace llmtap::sink {
namespace {

std::string json_quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonText, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_quoted("\n\r\t"), R"("\n\r\t")");
  EXPECT_EQ(json_quoted(std::string("\x01\x1f\x7f", 3)), R"("\u0001\u001f\u007f")");
}

TEST(JsonText, KeepsValidUtf8) { EXPECT_EQ(json_quoted("h\xC3\xA9llo \xE2\x82\xAC"), "\"h\xC3\xA9llo \xE2\x82\xAC\""); }

TEST(JsonText, ReplacesInvalidUtf8) {
  EXPECT_EQ(json_quoted("a\xFF" "b"), R"("a\ufffdb")");
  EXPECT_EQ(json_quoted("\xC3"), R"("\ufffd")");              // truncated sequence
  EXPECT_EQ(json_quoted("\xC0\xAF"), R"("\ufffd\ufffd")");    // overlong
  EXPECT_EQ(json_quoted("\xED\xA0\x80"), R"("\ufffd\ufffd\ufffd")");  // surrogate
}

TEST(JsonText, AnyBytesGiveParseableJson) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  const auto parsed = nlohmann::json::parse(json_quoted(bytes));
  EXPECT_TRUE(parsed.is_string());
}

TEST(Base64, MatchesRfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [in, expected] : vectors) {
    std::string out = "x";
    append_base64(out, in);
    EXPECT_EQ(out, std::string("x") + expected) << in;
  }
}

// The escaper as it was (one byte at a time), to compare the run-at-a-time one against.
std::string escaped_bytewise(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      const size_t len = common::utf8_sequence_length(text, i);
      if (len == 0) {
        out += "\\ufffd";
        ++i;
        continue;
      }
      out.append(text.substr(i, len));
      i += len;
      continue;
    }
    ++i;
  }
  return out;
}

TEST(JsonText, EscapesAsTheBytewiseEscaperDid) {
  std::mt19937 rng(11);
  for (int round = 0; round < 3000; ++round) {
    std::string text(rng() % 80, '\0');
    const int mode = round % 3;  // all bytes, mostly ASCII, ASCII with a few specials
    for (char& c : text) {
      const unsigned r = rng();
      c = static_cast<char>(mode == 0   ? r & 0xFF
                            : mode == 1 ? (r % 10 == 0 ? r & 0xFF : 0x20 + r % 95)
                                        : "ab\"\\\n\x01\xC3\xA9 z"[r % 11]);
    }
    std::string out = "prefix";
    append_json_escaped(out, text);
    ASSERT_EQ(out, "prefix" + escaped_bytewise(text)) << round;
  }
}

TEST(Base64, AsOpenSslEncodesAnyBytes) {
  std::mt19937 rng(5);
  for (size_t size = 0; size < 300; ++size) {
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::string expected(4 * ((size + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(expected.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(size));
    expected.resize(static_cast<size_t>(n));
    std::string out = "x";
    append_base64(out, bytes);
    ASSERT_EQ(out, "x" + expected) << size;
    for (const Base64Kernel kernel : base64_kernels()) {
      out = "x";
      append_base64(out, bytes, kernel);
      ASSERT_EQ(out, "x" + expected) << size << " kernel " << static_cast<int>(kernel);
    }
  }
}

// Every byte value in every position of a 24-byte step (the vector kernel's sextet ranges,
// from the first to the last byte of each lane), and long inputs of all remainders.
TEST(Base64, EveryKernelEncodesEveryByteEverywhere) {
  const std::vector<Base64Kernel> kernels = base64_kernels();
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) {
    EXPECT_EQ(kernels.back(), Base64Kernel::kAvx2);
  }
#endif
  auto openssl = [](const std::string& bytes) {
    std::string encoded(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    encoded.resize(static_cast<size_t>(n));
    return encoded;
  };
  std::mt19937 rng(8);
  for (int b = 0; b < 256; ++b) {
    for (size_t at = 0; at < 56; ++at) {
      std::string bytes(60, '\0');
      for (char& c : bytes) c = static_cast<char>(rng());
      bytes[at] = static_cast<char>(b);
      const std::string expected = openssl(bytes);
      for (const Base64Kernel kernel : kernels) {
        std::string out;
        append_base64(out, bytes, kernel);
        ASSERT_EQ(out, expected) << "byte " << b << " at " << at;
      }
    }
  }
  for (size_t size = 1000; size < 1100; ++size) {
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    for (const Base64Kernel kernel : kernels) {
      std::string out = "prefix";
      append_base64(out, bytes, kernel);
      ASSERT_EQ(out, "prefix" + openssl(bytes)) << size;
    }
  }
}

}  // namespace
}  // namespace llmtap::sink
