#pragma once
// How long the capture loop waits for records, round by round. While records come, the BPF
// programs batch them without waking the reader and the loop looks every `busy` interval
// (50 ms): one wakeup for many records. Once `quiet_rounds` rounds in a row found nothing, the
// loop tells the programs to wake it for the next record (TlsCaptureProgram::set_reader_idle),
// looks once more at the busy interval (a record whose program read the flag just before it
// was set was submitted without a wakeup: that round finds it), and then waits `idle` (250 ms)
// per round: an idle agent wakes 4 times a second instead of 50, and a record that comes
// wakes it at once. The first round that finds records ends the idle state.
// docs/capture-cost.md, "The reader's wakeups", has the argument.

#include <chrono>
#include <cstdint>
#include <optional>

#include "llmtap_abi.h"

namespace llmtap::capture {

class PollPacer {
 public:
  struct Settings {
    std::chrono::milliseconds busy{LLMTAP_POLL_INTERVAL_MS};
    std::chrono::milliseconds idle{250};
    uint32_t quiet_rounds = 3;  // empty rounds in a row before the reader asks to be woken
  };
  struct Step {
    std::chrono::milliseconds timeout;  // how long the next round may wait
    // Set the programs' reader-idle flag to this before the next round (none: leave it).
    std::optional<bool> reader_idle;
  };

  PollPacer() : PollPacer(Settings{}) {}
  explicit PollPacer(Settings settings) : s_(settings) {}

  std::chrono::milliseconds first_timeout() const { return s_.busy; }
  // After a round that handed over `records` records.
  Step after_round(int records);
  // The flag as last set: the programs wake the reader for every record.
  bool reader_idle() const { return flag_set_; }
  // Rounds that waited the idle interval.
  uint64_t idle_rounds() const { return idle_rounds_; }

 private:
  Settings s_;
  uint32_t quiet_ = 0;
  bool flag_set_ = false;
  uint64_t idle_rounds_ = 0;
};

}  // namespace llmtap::capture
