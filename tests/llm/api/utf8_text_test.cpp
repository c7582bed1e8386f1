#include "llm/api/utf8_text.h"

#include <gtest/gtest.h>

namespace llmtap::llm {
namespace {

TEST(Utf8Text, ValidTextUnchanged) {
  const std::string text = "plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
  EXPECT_EQ(to_valid_utf8(text), text);
}

TEST(Utf8Text, InvalidSequencesReplaced) {
  EXPECT_EQ(to_valid_utf8("a\xFF"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD");          // overlong
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD");      // surrogate
  EXPECT_EQ(to_valid_utf8("\xF4\x90\x80\x80"), "\xEF\xBF\xBD");  // above U+10FFFF
  EXPECT_EQ(to_valid_utf8("end \xE2\x82"), "end \xEF\xBF\xBD");  // truncated
}

TEST(Utf8Text, CutKeepsCharactersWhole) {
  const std::string text = "ab\xE2\x82\xAC";  // "ab€"
  EXPECT_EQ(cut_utf8(text, 10), text);
  EXPECT_EQ(cut_utf8(text, 5), text);
  EXPECT_EQ(cut_utf8(text, 4), "ab");
  EXPECT_EQ(cut_utf8(text, 3), "ab");
  EXPECT_EQ(cut_utf8(text, 0), "");
}

}  // namespace
}  // namespace llmtap::llm
