#include "llm/stream/ndjson_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stream_decoder_test_support.h"

namespace llmtap::llm {
namespace {

using testing::data_event;
using testing::decode_pieces;
using testing::decode_whole;
using testing::expect_random_inputs_split_invariant;
using testing::expect_split_invariant;
using testing::Outcome;

// From the Ollama /api/chat streaming docs.
const std::string kOllamaChat =
    "{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T08:52:19.385406455-07:00\","
    "\"message\":{\"role\":\"assistant\",\"content\":\"The\",\"images\":null},\"done\":false}\n"
    "{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T08:52:19.385406455-07:00\","
    "\"message\":{\"role\":\"assistant\",\"content\":\" sky\",\"images\":null},\"done\":false}\n"
    "{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T19:22:45.499127Z\",\"message\":{\"role\":"
    "\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"total_duration\":"
    "4883583458,\"load_duration\":1334875,\"prompt_eval_count\":26,\"prompt_eval_duration\":"
    "342546000,\"eval_count\":282,\"eval_duration\":4535599000}\n";

TEST(NdjsonDecoder, OllamaChatStream) {
  const Outcome o = decode_whole<NdjsonDecoder>(kOllamaChat);
  ASSERT_EQ(o.events.size(), 3u);
  EXPECT_EQ(o.events[0].type, "");
  EXPECT_TRUE(o.events[0].data.starts_with("{\"model\":\"llama3.2\""));
  EXPECT_TRUE(o.events[0].data.ends_with("\"done\":false}"));
  EXPECT_TRUE(o.events[2].data.ends_with("\"eval_duration\":4535599000}"));
  EXPECT_EQ(o.event_count, 3u);
  EXPECT_EQ(o.errors, 0u);
  expect_split_invariant<NdjsonDecoder>(kOllamaChat);
}

TEST(NdjsonDecoder, CrLfBlankLinesAndWhitespaceAreSkipped) {
  const std::string input = "\r\n{\"a\":1}\r\n\n   \n\t\r\n  {\"b\":2}  \r\n\n";
  const Outcome o = decode_whole<NdjsonDecoder>(input);
  EXPECT_EQ(o.events, (std::vector<StreamEvent>{data_event("{\"a\":1}"), data_event("{\"b\":2}")}));
  EXPECT_EQ(o.errors, 0u);
  expect_split_invariant<NdjsonDecoder>(input);
}

TEST(NdjsonDecoder, LoneCrIsNotALineEnd) {
  EXPECT_EQ(decode_whole<NdjsonDecoder>("{\"a\":\r1}\n").events,
            std::vector<StreamEvent>{data_event("{\"a\":\r1}")});
}

TEST(NdjsonDecoder, JsonIsNotValidatedHere) {
  EXPECT_EQ(decode_whole<NdjsonDecoder>("not json\n").events,
            std::vector<StreamEvent>{data_event("not json")});
}

TEST(NdjsonDecoder, FinishEmitsAnUnterminatedLastLine) {
  EXPECT_EQ(decode_whole<NdjsonDecoder>("{\"a\":1}\n{\"done\":true}").events,
            (std::vector<StreamEvent>{data_event("{\"a\":1}"), data_event("{\"done\":true}")}));
  EXPECT_TRUE(decode_whole<NdjsonDecoder>("{\"a\":1}\n  \r").events.size() == 1);
}

TEST(NdjsonDecoder, OversizeLineIsDroppedAndTheNextOneDecoded) {
  const StreamLimits limits{.max_event_bytes = 16};
  const std::string big = "{\"text\":\"" + std::string(20, 'x') + "\"}\r\n";
  const std::string input = "{\"a\":1}\n" + big + "{\"b\":2}\n";
  const Outcome o = decode_whole<NdjsonDecoder>(input, limits);
  EXPECT_EQ(o.events, (std::vector<StreamEvent>{data_event("{\"a\":1}"), data_event("{\"b\":2}")}));
  EXPECT_EQ(o.errors, 1u);
  EXPECT_EQ(o.dropped_bytes, big.size());
  expect_split_invariant<NdjsonDecoder>(input, limits);
  // Exactly at the limit (the CR counts, the LF does not) is kept.
  EXPECT_EQ(decode_whole<NdjsonDecoder>(std::string(15, '1') + "\r\n", limits).events.size(), 1u);
  // Unterminated and oversize at finish.
  const Outcome last = decode_whole<NdjsonDecoder>(std::string(17, '1'), limits);
  EXPECT_EQ(last.errors, 1u);
  EXPECT_EQ(last.dropped_bytes, 17u);
}

TEST(NdjsonDecoder, RandomInputsDecodeTheSameWhereverCut) {
  const std::vector<std::string> atoms = {"{", "}", "\"a\"", ":", "1", " ", "\r", "\n", "\r\n"};
  expect_random_inputs_split_invariant<NdjsonDecoder>(11, 300, atoms, 16);
}

}  // namespace
}  // namespace llmtap::llm
