#pragma once
// BPF stamps events with CLOCK_MONOTONIC; users want wall-clock time.

#include <time.h>

#include <cstdint>

namespace llmtap::capture {

// CLOCK_MONOTONIC now, in ns: the clock BPF stamps events and holds with.
inline uint64_t monotonic_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

// CLOCK_REALTIME now, in ns.
inline uint64_t realtime_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

class WallClock {
 public:
  WallClock();
  // Re-reads the offset (call now and then: NTP steps move CLOCK_REALTIME).
  void resync();
  uint64_t realtime_ns(uint64_t monotonic_ns) const {
    return static_cast<uint64_t>(static_cast<int64_t>(monotonic_ns) + offset_ns_);
  }

 private:
  int64_t offset_ns_ = 0;
};

}  // namespace llmtap::capture
