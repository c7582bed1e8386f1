#include "sink/json_text.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace llmtap::sink
