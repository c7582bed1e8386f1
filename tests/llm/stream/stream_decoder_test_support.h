#pragma once
// Helpers shared by the stream decoder tests: feeding a body cut at chosen offsets and
// comparing everything observable, so that any split can be checked against one feed.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "llm/stream/stream_event.h"
#include "llm/stream/stream_limits.h"

namespace llmtap::llm::testing {

struct Outcome {
  std::vector<StreamEvent> events;
  uint64_t event_count = 0;
  uint64_t errors = 0;
  uint64_t dropped_bytes = 0;
  bool operator==(const Outcome&) const = default;
};

// Feeds `input` cut at the given offsets (ascending), then finishes.
template <typename Decoder>
Outcome decode_pieces(std::string_view input, const std::vector<size_t>& cuts,
                      StreamLimits limits = {}) {
  Decoder decoder(limits);
  Outcome outcome;
  size_t start = 0;
  for (size_t cut : cuts) {
    decoder.feed(input.substr(start, cut - start), outcome.events);
    start = cut;
  }
  decoder.feed(input.substr(start), outcome.events);
  decoder.finish(outcome.events);
  outcome.event_count = decoder.events();
  outcome.errors = decoder.errors();
  outcome.dropped_bytes = decoder.dropped_bytes();
  return outcome;
}

template <typename Decoder>
Outcome decode_whole(std::string_view input, StreamLimits limits = {}) {
  return decode_pieces<Decoder>(input, {}, limits);
}

// One cut at every offset, then one byte at a time: each must equal a single feed.
template <typename Decoder>
void expect_split_invariant(std::string_view input, StreamLimits limits = {}) {
  const Outcome whole = decode_whole<Decoder>(input, limits);
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    ASSERT_EQ(decode_pieces<Decoder>(input, {cut}, limits), whole) << "cut at " << cut;
  }
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < input.size(); ++i) every_byte.push_back(i);
  ASSERT_EQ(decode_pieces<Decoder>(input, every_byte, limits), whole) << "byte by byte";
}

inline StreamEvent event(std::string type, std::string data, bool is_exception = false) {
  return {.type = std::move(type), .data = std::move(data), .is_exception = is_exception};
}

inline StreamEvent data_event(std::string data) { return event("", std::move(data)); }

}  // namespace llmtap::llm::testing
