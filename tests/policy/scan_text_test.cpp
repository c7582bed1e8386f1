#include "policy/scan_text.h"

#include <gtest/gtest.h>

#include "policy/glob.h"
#include "policy/volume_tracker.h"

namespace llmtap::policy {
namespace {

std::string unescaped(std::string_view s) {
  std::string out;
  json_unescaped(s, out);
  return out;
}

TEST(ScanText, DecodesJsonStringEscapes) {
  EXPECT_EQ(unescaped(R"({"k":"-----BEGIN RSA PRIVATE KEY-----\nMIIE"})"),
            "{\"k\":\"-----BEGIN RSA PRIVATE KEY-----\nMIIE\"}");
  EXPECT_EQ(unescaped(R"(p\"w\\d \u00e9 \ud83d\ude00 \/)"), "p\"w\\d \xC3\xA9 \xF0\x9F\x98\x80 /");
  EXPECT_EQ(unescaped(R"(lone \ud800 x)"), R"(lone \ud800 x)");
  EXPECT_EQ(unescaped(R"(bad \q \u12 end\)"), R"(bad \q \u12 end\)");
  EXPECT_EQ(unescaped("no escapes"), "no escapes");
}

TEST(Glob, StarsAndQuestionMarksInLinearTime) {
  EXPECT_TRUE(glob_match("gpt-4o*", "gpt-4o-mini"));
  EXPECT_TRUE(glob_match("*-r1-distill-*", "deepseek-r1-distill-llama"));
  EXPECT_FALSE(glob_match("gpt-4o*", "gpt-4"));
  EXPECT_TRUE(glob_match("?pt", "gpt"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_FALSE(glob_match(std::string(50, '*') + "b", std::string(100000, 'a')));
  EXPECT_TRUE(glob_problem("gpt-[45]").has_value());
  EXPECT_FALSE(glob_problem("gpt-4*").has_value());
}

TEST(VolumeTracker, SlidingWindowAndBoundedKeys) {
  VolumeTracker t(3600, 2);
  EXPECT_EQ(t.add("a", 1000, 10, 100).tokens, 10u);
  EXPECT_EQ(t.add("a", 2000, 5, 50).tokens, 15u);
  EXPECT_EQ(t.add("a", 1000 + 3600 + 120, 1, 1).tokens, 6u);  // the first fell out
  t.add("b", 5000, 1, 1);
  t.add("c", 5000, 1, 1);  // evicts the least recent
  EXPECT_EQ(t.keys(), 2u);
  EXPECT_TRUE(t.report_once("c", 5000));
  EXPECT_FALSE(t.report_once("c", 5100));
  EXPECT_TRUE(t.report_once("c", 5000 + 3600));
}

}  // namespace
}  // namespace llmtap::policy
