#include "capture/poll_pacer.h"

#include <gtest/gtest.h>

namespace llmtap::capture {
namespace {

using std::chrono::milliseconds;

PollPacer::Settings settings() { return {milliseconds(20), milliseconds(250), 3}; }

TEST(PollPacer, LooksAtTheBusyIntervalWhileRecordsCome) {
  PollPacer p(settings());
  EXPECT_EQ(p.first_timeout(), milliseconds(20));
  for (int i = 0; i < 100; ++i) {
    const PollPacer::Step s = p.after_round(i % 3 == 0 ? 5 : 0);  // never three empty in a row
    EXPECT_EQ(s.timeout, milliseconds(20));
    EXPECT_FALSE(s.reader_idle.has_value());
  }
  EXPECT_FALSE(p.reader_idle());
  EXPECT_EQ(p.idle_rounds(), 0u);
}

TEST(PollPacer, AsksToBeWokenAfterQuietRoundsThenLooksOnceMoreBeforeWaitingLong) {
  PollPacer p(settings());
  EXPECT_EQ(p.after_round(0).timeout, milliseconds(20));
  EXPECT_EQ(p.after_round(0).timeout, milliseconds(20));
  const PollPacer::Step set = p.after_round(0);  // the third empty round
  ASSERT_TRUE(set.reader_idle.has_value());
  EXPECT_TRUE(*set.reader_idle);
  // The round after the flag is set is short: a record that raced with the flag is found.
  EXPECT_EQ(set.timeout, milliseconds(20));
  EXPECT_TRUE(p.reader_idle());
  EXPECT_EQ(p.idle_rounds(), 0u);
  for (int i = 0; i < 5; ++i) {
    const PollPacer::Step s = p.after_round(0);
    EXPECT_EQ(s.timeout, milliseconds(250));
    EXPECT_FALSE(s.reader_idle.has_value());  // set once, not again every round
  }
  EXPECT_EQ(p.idle_rounds(), 5u);
}

TEST(PollPacer, TheFirstRecordsEndTheIdleState) {
  PollPacer p(settings());
  for (int i = 0; i < 6; ++i) p.after_round(0);
  ASSERT_TRUE(p.reader_idle());
  const PollPacer::Step woken = p.after_round(1);
  ASSERT_TRUE(woken.reader_idle.has_value());
  EXPECT_FALSE(*woken.reader_idle);
  EXPECT_EQ(woken.timeout, milliseconds(20));
  EXPECT_FALSE(p.reader_idle());
  // Quiet again: the count starts over.
  EXPECT_FALSE(p.after_round(0).reader_idle.has_value());
  EXPECT_FALSE(p.after_round(0).reader_idle.has_value());
  EXPECT_TRUE(p.after_round(0).reader_idle.value_or(false));
}

TEST(PollPacer, RecordsInTheRoundRightAfterTheFlagClearItAgain) {
  PollPacer p(settings());
  for (int i = 0; i < 3; ++i) p.after_round(0);
  ASSERT_TRUE(p.reader_idle());
  const PollPacer::Step s = p.after_round(2);
  EXPECT_EQ(s.reader_idle, std::optional<bool>(false));
  EXPECT_EQ(s.timeout, milliseconds(20));
  EXPECT_EQ(p.idle_rounds(), 0u);
}

TEST(PollPacer, OneQuietRoundIsEnoughWhenSoConfigured) {
  PollPacer p({milliseconds(20), milliseconds(1000), 1});
  EXPECT_EQ(p.after_round(0).reader_idle, std::optional<bool>(true));
  EXPECT_EQ(p.after_round(0).timeout, milliseconds(1000));
}

}  // namespace
}  // namespace llmtap::capture
