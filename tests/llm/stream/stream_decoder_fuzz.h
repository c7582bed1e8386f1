#pragma once
// Shared body of the stream decoder fuzz targets: decodes the input in one feed and cut in
// two, and aborts if the cut changes anything observable. The control byte (the input's
// first) picks the cut and whether the limits are small enough for the fuzzer to reach.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "llm/stream/stream_event.h"
#include "llm/stream/stream_limits.h"

namespace llmtap::llm::fuzzing {

struct Result {
  std::vector<StreamEvent> events;
  uint64_t event_count = 0;
  uint64_t errors = 0;
  uint64_t dropped_bytes = 0;
  bool operator==(const Result&) const = default;
};

template <typename Decoder>
Result decode(std::string_view input, size_t cut, StreamLimits limits) {
  Decoder decoder(limits);
  Result r;
  decoder.feed(input.substr(0, cut), r.events);
  decoder.feed(input.substr(cut), r.events);
  decoder.finish(r.events);
  r.event_count = decoder.events();
  r.errors = decoder.errors();
  r.dropped_bytes = decoder.dropped_bytes();
  return r;
}

// Bit 7 of the control byte: small limits. The rest (after `extra_bits` taken by the target)
// scales the cut point over the input.
template <typename Decoder>
void check_split_invariance(uint8_t control, std::string_view input, unsigned extra_bits = 0) {
  const StreamLimits limits{.max_event_bytes =
                                (control & 0x80) != 0 ? 64 : StreamLimits{}.max_event_bytes};
  const unsigned cut_mask = 0x7fu >> extra_bits;
  const size_t cut = input.size() * (control & cut_mask) / cut_mask;
  const Result whole = decode<Decoder>(input, 0, limits);
  const Result split = decode<Decoder>(input, cut, limits);
  if (!(whole == split)) std::abort();
  // Every event was counted, and no event is larger than the limit allows.
  if (whole.events.size() != whole.event_count) std::abort();
  for (const StreamEvent& e : whole.events) {
    if (e.data.size() > limits.max_event_bytes) std::abort();
  }
}

}  // namespace llmtap::llm::fuzzing
