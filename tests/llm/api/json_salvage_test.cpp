#include "llm/api/json_salvage.h"

#include <gtest/gtest.h>

namespace llmtap::llm {
namespace {

std::string salvaged(std::string_view text) {
  const auto s = salvage_json(text);
  return s ? s->text : "<none>";
}

TEST(JsonSalvage, NothingToFix) {
  EXPECT_FALSE(salvage_json(R"({"a":[1,2,{"b":"c"}]})"));
  EXPECT_FALSE(salvage_json("not json at all"));
}

TEST(JsonSalvage, ClosesAfterLastCompleteValue) {
  EXPECT_EQ(salvaged(R"({"a":1,"b":"cut)"), R"({"a":1})");
  EXPECT_EQ(salvaged(R"({"a":[1,2)"), R"({"a":[1]})");
  EXPECT_EQ(salvaged(R"({"a":{"b":[)"), R"({"a":{"b":[]}})");
  EXPECT_EQ(salvaged(R"({"a":"x"},)"), "<none>");  // balanced: not a truncation
  EXPECT_EQ(salvaged(R"({"s":"a,b]}\"","t":)"), R"({"s":"a,b]}\""})");
}

TEST(JsonSalvage, MismatchedClosersAreNotTruncation) {
  EXPECT_EQ(salvaged(R"({"a":[1}})"), "<none>");
}

TEST(JsonSalvage, ReplacesUnpairedSurrogates) {
  EXPECT_EQ(salvaged(R"({"a":"\ud83d"})"), R"({"a":"\ufffd"})");
  EXPECT_EQ(salvaged(R"({"a":"\udc00x"})"), R"({"a":"\ufffdx"})");
  EXPECT_FALSE(salvage_json(R"({"a":"\ud83d\ude00"})"));  // a proper pair
  EXPECT_FALSE(salvage_json(R"({"a":"\\ud83d"})"));       // an escaped backslash, not an escape
}

// Inside strings the bytes are searched 16 at a time: every byte that matters ('"', '\\') is
// found wherever it falls in a block, and none past the text's end.
TEST(JsonSalvage, FindsEscapesAndQuotesAtEveryOffsetOfALongString) {
  for (size_t k = 0; k < 40; ++k) {
    const std::string x(k, 'x');
    const std::string y(k, 'y');
    EXPECT_EQ(salvaged(R"({"a":")" + x + R"(\ud83d)" + y + R"(","b":[1,2)"),
              R"({"a":")" + x + R"(\ufffd)" + y + R"(","b":[1]})")
        << k;
    EXPECT_EQ(salvaged(R"({"s":")" + x + R"(\",]}\\)" + y + R"(","t":)"),
              R"({"s":")" + x + R"(\",]}\\)" + y + R"("})")
        << k;
    // Cut inside a string: back to the last complete value before it.
    EXPECT_EQ(salvaged(R"({"a":1,"b":")" + x + y), R"({"a":1})") << k;
    EXPECT_EQ(salvaged(R"({"a":1,"b":")" + x + "\\"), R"({"a":1})") << k;
  }
}

TEST(JsonSalvage, ReplacesInvalidUtf8) {
  const auto s = salvage_json("{\"a\":\"\xFF\"}");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->text, "{\"a\":\"\xEF\xBF\xBD\"}");
  EXPECT_NE(s->repairs.find("UTF-8"), std::string::npos);
}

}  // namespace
}  // namespace llmtap::llm
