#include "capture/wall_clock.h"

#include <time.h>

namespace llmtap::capture {
namespace {

int64_t read_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

WallClock::WallClock() { resync(); }

void WallClock::resync() {
  // Bracket the realtime read with two monotonic reads and take their midpoint.
  const int64_t before = read_ns(CLOCK_MONOTONIC);
  const int64_t real = read_ns(CLOCK_REALTIME);
  const int64_t after = read_ns(CLOCK_MONOTONIC);
  offset_ns_ = real - (before + (after - before) / 2);
}

}  // namespace llmtap::capture
