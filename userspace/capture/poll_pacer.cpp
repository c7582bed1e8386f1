#include "capture/poll_pacer.h"

namespace llmtap::capture {

PollPacer::Step PollPacer::after_round(int records) {
  if (records > 0) {
    quiet_ = 0;
    if (!flag_set_) return {s_.busy, std::nullopt};
    flag_set_ = false;
    return {s_.busy, false};
  }
  if (quiet_ < s_.quiet_rounds) ++quiet_;
  if (flag_set_) {
    // The flag was set before the round that just ended, which found nothing: every record
    // from now on wakes the reader.
    ++idle_rounds_;
    return {s_.idle, std::nullopt};
  }
  if (quiet_ < s_.quiet_rounds) return {s_.busy, std::nullopt};
  flag_set_ = true;
  return {s_.busy, true};  // one more short round: it finds what raced with the flag
}

}  // namespace llmtap::capture
