#include "llm/stream/aws_event_stream_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "aws_event_stream_builder.h"
#include "stream_decoder_test_support.h"

namespace llmtap::llm {
namespace {

using testing::aws_event;
using testing::aws_exception;
using testing::aws_message;
using testing::decode_pieces;
using testing::decode_whole;
using testing::event;
using testing::expect_split_invariant;
using testing::Outcome;
using testing::put_u32;
using testing::raw_header;
using testing::string_header;

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// Bedrock converse-stream events, as the service frames them.
std::string converse_stream() {
  return aws_event("messageStart", "{\"p\":\"abcd\",\"role\":\"assistant\"}") +
         aws_event("contentBlockDelta",
                   "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hello\"},\"p\":\"abcdefgh\"}") +
         aws_event("contentBlockStop", "{\"contentBlockIndex\":0,\"p\":\"abcdefghijklmn\"}") +
         aws_event("messageStop", "{\"p\":\"abc\",\"stopReason\":\"end_turn\"}") +
         aws_event(
             "metadata",
             "{\"metrics\":{\"latencyMs\":512},\"p\":\"abcdef\",\"usage\":{\"inputTokens\":12,"
             "\"outputTokens\":5,\"totalTokens\":17}}");
}

TEST(AwsEventStreamDecoder, KnownAnswerVectors) {
  // aws-c-event-stream's "empty_message" and "int32_header" encodings.
  const Outcome empty =
      decode_whole<AwsEventStreamDecoder>(from_hex("000000100000000005c248eb7d98c8ff"));
  EXPECT_EQ(empty.events, std::vector<StreamEvent>{event("", "")});
  EXPECT_EQ(empty.errors, 0u);
  const Outcome int32 = decode_whole<AwsEventStreamDecoder>(
      from_hex("0000002d0000001041c424b80a6576656e742d747970650400"
               "00a00c7b27666f6f273a27626172277d36f480a0"));
  EXPECT_EQ(int32.events, std::vector<StreamEvent>{event("", "{'foo':'bar'}")});
  EXPECT_EQ(int32.errors, 0u);
}

TEST(AwsEventStreamDecoder, BedrockInvokeWithResponseStream) {
  // invoke-with-response-stream: `chunk` events whose payload carries the model's JSON in base64.
  const std::string c1 =
      "{\"bytes\":\"eyJ0eXBlIjoibWVzc2FnZV9zdGFydCJ9\",\"p\":\"abcdefghijklmnopqrstuvwxyzABCDEF\"}";
  const std::string c2 = "{\"bytes\":\"eyJ0eXBlIjoibWVzc2FnZV9zdG9wIn0=\",\"p\":\"abcd\"}";
  const std::string body = aws_event("chunk", c1) + aws_event("chunk", c2);
  const Outcome o = decode_whole<AwsEventStreamDecoder>(body);
  EXPECT_EQ(o.events, (std::vector<StreamEvent>{event("chunk", c1), event("chunk", c2)}));
  EXPECT_EQ(o.errors, 0u);
  EXPECT_EQ(o.dropped_bytes, 0u);
  expect_split_invariant<AwsEventStreamDecoder>(body);
}

TEST(AwsEventStreamDecoder, BedrockConverseStream) {
  const std::string body = converse_stream();
  const Outcome o = decode_whole<AwsEventStreamDecoder>(body);
  std::vector<std::string> types;
  for (const StreamEvent& e : o.events) types.push_back(e.type);
  EXPECT_EQ(types, (std::vector<std::string>{"messageStart", "contentBlockDelta",
                                             "contentBlockStop", "messageStop", "metadata"}));
  EXPECT_TRUE(o.events[4].data.find("\"totalTokens\":17") != std::string::npos);
  EXPECT_FALSE(o.events[4].is_exception);
  expect_split_invariant<AwsEventStreamDecoder>(body);
}

TEST(AwsEventStreamDecoder, ExceptionAndErrorMessages) {
  const std::string throttled =
      "{\"message\":\"Too many requests, please wait before trying again.\"}";
  const std::string body =
      aws_event("chunk", "{\"bytes\":\"e30=\"}") + aws_exception("throttlingException", throttled) +
      aws_message(
          {string_header(":message-type", "error"), string_header(":error-code", "InternalFailure"),
           string_header(":error-message", "An internal error occurred")},
          "");
  const Outcome o = decode_whole<AwsEventStreamDecoder>(body);
  EXPECT_EQ(o.events, (std::vector<StreamEvent>{
                          event("chunk", "{\"bytes\":\"e30=\"}"),
                          event("throttlingException", throttled, true),
                          event("InternalFailure", "An internal error occurred", true)}));
  expect_split_invariant<AwsEventStreamDecoder>(body);
}

TEST(AwsEventStreamDecoder, EveryHeaderValueTypeIsSkippedCorrectly) {
  std::string long_value(8, '\x01');
  const std::string body = aws_message(
      {raw_header("t", 0, ""), raw_header("f", 1, ""), raw_header("b", 2, "\x7f"),
       raw_header("s", 3, std::string("\x00\x02", 2)), raw_header("i", 4, "abcd"),
       raw_header("l", 5, long_value), raw_header("a", 6, std::string("\x00\x03xyz", 5)),
       raw_header("ts", 8, long_value), raw_header("u", 9, std::string(16, 'u')),
       string_header(":event-type", "contentBlockDelta")},
      "{}");
  const Outcome o = decode_whole<AwsEventStreamDecoder>(body);
  EXPECT_EQ(o.events, std::vector<StreamEvent>{event("contentBlockDelta", "{}")});
  EXPECT_EQ(o.errors, 0u);
}

TEST(AwsEventStreamDecoder, MalformedHeadersSkipOneMessageOnly) {
  const std::string bad_type = aws_message({raw_header("x", 10, "")}, "{}");
  const std::string overrun = aws_message({raw_header("x", 7,
                                                      std::string("\x00\x09"
                                                                  "ab",
                                                                  4))},
                                          "");
  const std::string body = bad_type + overrun + aws_event("chunk", "ok");
  const Outcome o = decode_whole<AwsEventStreamDecoder>(body);
  EXPECT_EQ(o.events, std::vector<StreamEvent>{event("chunk", "ok")});
  EXPECT_EQ(o.errors, 2u);
  EXPECT_EQ(o.dropped_bytes, bad_type.size() + overrun.size());
  expect_split_invariant<AwsEventStreamDecoder>(body);
}

TEST(AwsEventStreamDecoder, BadCrcsStopTheDecoder) {
  const std::string first = aws_event("chunk", "one");
  const std::string second = aws_event("chunk", "two");
  for (size_t flip :
       {size_t{9}, second.size() - 1, size_t{20}}) {  // prelude CRC, message CRC, body
    std::string corrupt = second;
    corrupt[flip] ^= 0x40;
    const std::string body = first + corrupt + aws_event("chunk", "three");
    AwsEventStreamDecoder decoder;
    std::vector<StreamEvent> out;
    decoder.feed(body, out);
    EXPECT_EQ(out, std::vector<StreamEvent>{event("chunk", "one")}) << flip;
    EXPECT_TRUE(decoder.failed());
    EXPECT_EQ(decoder.error(), flip == 9 ? "bad prelude CRC" : "bad message CRC");
    EXPECT_EQ(decoder.errors(), 1u);
    EXPECT_EQ(decoder.dropped_bytes(), body.size() - first.size());
    expect_split_invariant<AwsEventStreamDecoder>(body);
  }
}

// A prelude with a correct CRC but the given lengths.
std::string prelude(uint32_t total, uint32_t headers) {
  std::string p;
  put_u32(p, total);
  put_u32(p, headers);
  put_u32(p, testing::crc_of(p));
  return p;
}

TEST(AwsEventStreamDecoder, ImpossibleLengthsStopTheDecoder) {
  for (const auto& [total, headers] : std::vector<std::pair<uint32_t, uint32_t>>{
           {15, 0}, {0, 0}, {(16u << 20) + 1, 0}, {0xffffffff, 0}, {32, 17}, {32, 0xffffffff}}) {
    const std::string body = prelude(total, headers) + std::string(40, 'z');
    AwsEventStreamDecoder decoder;
    std::vector<StreamEvent> out;
    decoder.feed(body, out);
    EXPECT_TRUE(decoder.failed()) << total << " " << headers;
    EXPECT_EQ(decoder.error(), "impossible message length");
    EXPECT_EQ(decoder.dropped_bytes(), body.size());
  }
  // The largest legal lengths are accepted (and, here, over the event limit).
  AwsEventStreamDecoder decoder;
  std::vector<StreamEvent> out;
  decoder.feed(prelude(16u << 20, (16u << 20) - 16), out);
  EXPECT_FALSE(decoder.failed());
}

TEST(AwsEventStreamDecoder, OversizeMessageIsSkippedByItsLength) {
  const StreamLimits limits{.max_event_bytes = 100};
  const std::string big = aws_event("chunk", std::string(200, 'b'));
  const std::string body = aws_event("chunk", "a") + big + aws_event("chunk", "c");
  const Outcome o = decode_whole<AwsEventStreamDecoder>(body, limits);
  EXPECT_EQ(o.events, (std::vector<StreamEvent>{event("chunk", "a"), event("chunk", "c")}));
  EXPECT_EQ(o.errors, 1u);
  EXPECT_EQ(o.dropped_bytes, big.size());
  expect_split_invariant<AwsEventStreamDecoder>(body, limits);
  // A skipped message is still checked: a bad CRC there stops the decoder.
  std::string corrupt = big;
  corrupt[100] ^= 1;
  const Outcome bad =
      decode_whole<AwsEventStreamDecoder>(corrupt + aws_event("chunk", "c"), limits);
  EXPECT_TRUE(bad.events.empty());
  EXPECT_EQ(bad.errors, 1u);
  expect_split_invariant<AwsEventStreamDecoder>(corrupt + aws_event("chunk", "c"), limits);
}

TEST(AwsEventStreamDecoder, MessageCutShortAtFinishIsAnError) {
  const std::string body = aws_event("chunk", "one") + aws_event("chunk", "two");
  const Outcome o = decode_whole<AwsEventStreamDecoder>(body.substr(0, body.size() - 3));
  EXPECT_EQ(o.events, std::vector<StreamEvent>{event("chunk", "one")});
  EXPECT_EQ(o.errors, 1u);
  EXPECT_EQ(o.dropped_bytes, body.size() / 2 - 3);
  const Outcome prelude_only = decode_whole<AwsEventStreamDecoder>(body.substr(0, 5));
  EXPECT_EQ(prelude_only.errors, 1u);
  EXPECT_EQ(prelude_only.dropped_bytes, 5u);
}

TEST(AwsEventStreamDecoder, GarbageIsAnErrorNotACrash) {
  const Outcome o = decode_whole<AwsEventStreamDecoder>("HTTP/1.1 200 OK\r\n\r\n{\"bytes\":1}");
  EXPECT_TRUE(o.events.empty());
  EXPECT_EQ(o.errors, 1u);
  EXPECT_EQ(o.dropped_bytes, 30u);
}

TEST(AwsEventStreamDecoder, RandomCorruptionsDecodeTheSameWhereverCut) {
  std::mt19937 rng(17);
  const std::string clean = converse_stream();
  for (int round = 0; round < 300; ++round) {
    std::string input = clean.substr(0, rng() % (clean.size() + 1));
    if (!input.empty() && rng() % 4 != 0)
      input[rng() % input.size()] ^= static_cast<char>(1 + rng() % 255);
    const StreamLimits limits{.max_event_bytes = 16 + rng() % 128};
    const Outcome whole = decode_whole<AwsEventStreamDecoder>(input, limits);
    std::vector<size_t> cuts;
    for (int c = 0; c < 3 && !input.empty(); ++c) cuts.push_back(rng() % (input.size() + 1));
    std::sort(cuts.begin(), cuts.end());
    ASSERT_EQ(decode_pieces<AwsEventStreamDecoder>(input, cuts, limits), whole);
  }
}

}  // namespace
}  // namespace llmtap::llm
