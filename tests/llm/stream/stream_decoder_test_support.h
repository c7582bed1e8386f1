#pragma once
// Helpers shared by the stream decoder tests: feeding a body cut at chosen offsets and
// comparing everything observable, so that any split can be checked against one feed.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
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

// `rounds` random inputs strung from `atoms` (half of them opened by `coin_prefix`, when one
// is given), each decoded with a random event-size limit of at most `max_limit` and cut at
// three random offsets: every cut must give what one feed gives.
template <typename Decoder>
void expect_random_inputs_split_invariant(uint32_t seed, int rounds,
                                          const std::vector<std::string>& atoms, size_t max_limit,
                                          std::string_view coin_prefix = "") {
  std::mt19937 rng(seed);
  for (int round = 0; round < rounds; ++round) {
    std::string input = !coin_prefix.empty() && rng() % 2 ? std::string(coin_prefix) : "";
    const size_t atoms_in_input = rng() % 40;
    for (size_t i = 0; i < atoms_in_input; ++i) input += atoms[rng() % atoms.size()];
    const StreamLimits limits{.max_event_bytes = 1 + rng() % max_limit};
    const Outcome whole = decode_whole<Decoder>(input, limits);
    std::vector<size_t> cuts;
    for (int c = 0; c < 3 && !input.empty(); ++c) cuts.push_back(rng() % (input.size() + 1));
    std::sort(cuts.begin(), cuts.end());
    ASSERT_EQ(decode_pieces<Decoder>(input, cuts, limits), whole)
        << ::testing::PrintToString(input);
  }
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
