#include "policy/detection/scan_windows.h"

#include <gtest/gtest.h>

namespace llmtap::policy {
namespace {

TEST(ScanWindows, MergesOverlappingWindowsOfOneDetectorWithinTheText) {
  ScanWindows w(3, 100);
  w.want(0);
  w.want(2);
  w.add({0, 10, 5}, 8, 1000);     // [0, 13): clamped at the start
  w.add({0, 10, 5}, 20, 1000);    // [10, 25): overlaps, merged
  w.add({0, 10, 5}, 100, 1000);   // [90, 105)
  w.add({1, 10, 5}, 50, 1000);    // detector 1 is not wanted
  w.add({2, 10, 50}, 990, 1000);  // [980, 1000): clamped at the end
  const auto merged = w.merged();
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].detector, 0u);
  EXPECT_EQ(merged[0].begin, 0u);
  EXPECT_EQ(merged[0].end, 25u);
  EXPECT_EQ(merged[1].begin, 90u);
  EXPECT_EQ(merged[1].end, 105u);
  EXPECT_EQ(merged[2].detector, 2u);
  EXPECT_EQ(merged[2].begin, 980u);
  EXPECT_EQ(merged[2].end, 1000u);
}

TEST(ScanWindows, TooManyWindowsReadTheDetectorWhole) {
  ScanWindows w(1, 4);
  w.want(0);
  for (size_t i = 0; i < 10; ++i) w.add({0, 1, 1}, i * 100, 10000);
  EXPECT_TRUE(w.whole(0));
  EXPECT_TRUE(w.merged().empty());
}

TEST(ScanWindows, ADetectorReadWholeHasNoWindows) {
  ScanWindows w(1, 100);
  w.want(0);
  w.add({0, 1, 1}, 10, 100);
  w.read_whole(0);
  EXPECT_TRUE(w.merged().empty());
}

TEST(ScanWindows, ResetIsAsNewAndKeepsNothingOfTheLastScan) {
  ScanWindows w(3, 4);
  w.want(0);
  w.want(2);
  for (size_t i = 0; i < 3; ++i) w.add({0, 1, 1}, i * 100, 10000);  // 3 of 0's 4 windows
  w.read_whole(1);  // not wanted, still read whole
  w.add({2, 5, 5}, 50, 10000);
  ASSERT_EQ(w.merged().size(), 4u);  // three of 0, one of 2
  w.add({2, 5, 5}, 70, 10000);  // left unmerged at the reset
  w.reset(3);
  for (uint32_t d = 0; d < 3; ++d) {
    EXPECT_FALSE(w.wanted(d)) << d;
    EXPECT_FALSE(w.whole(d)) << d;
  }
  EXPECT_TRUE(w.wanted_detectors().empty());
  EXPECT_TRUE(w.merged().empty());
  w.want(0);
  for (size_t i = 0; i < 3; ++i) w.add({0, 1, 1}, i * 100, 10000);  // its count began again
  EXPECT_FALSE(w.whole(0));
  EXPECT_EQ(w.merged().size(), 3u);

  w.reset(5);  // another scanner's detector count
  w.want(4);
  w.add({4, 1, 1}, 10, 100);
  ASSERT_EQ(w.merged().size(), 1u);
  EXPECT_EQ(w.merged()[0].detector, 4u);
}

TEST(ScanWindows, TrimDropsTheWindowsButKeepsWhatIsWanted) {
  ScanWindows w(2, 100);
  w.want(1);
  w.add({1, 1, 1}, 10, 100);
  w.trim();
  EXPECT_TRUE(w.merged().empty());
  EXPECT_TRUE(w.wanted(1));
}

}  // namespace
}  // namespace llmtap::policy
