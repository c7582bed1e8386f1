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

TEST(JsonSalvage, ReplacesInvalidUtf8) {
  const auto s = salvage_json("{\"a\":\"\xFF\"}");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->text, "{\"a\":\"\xEF\xBF\xBD\"}");
  EXPECT_NE(s->repairs.find("UTF-8"), std::string::npos);
}

}  // namespace
}  // namespace llmtap::llm
