#include "llm/stream/stream_body.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aws_event_stream_builder.h"
#include "stream_decoder_test_support.h"

namespace llmtap::llm {
namespace {

using testing::data_event;
using testing::event;

TEST(StreamBody, FramingForContentType) {
  EXPECT_EQ(framing_for_content_type("text/event-stream"), StreamFraming::kSse);
  EXPECT_EQ(framing_for_content_type("Text/Event-Stream; charset=utf-8"), StreamFraming::kSse);
  EXPECT_EQ(framing_for_content_type("  text/event-stream  ;charset=UTF-8"), StreamFraming::kSse);
  EXPECT_EQ(framing_for_content_type("application/x-ndjson"), StreamFraming::kNdjson);
  EXPECT_EQ(framing_for_content_type("application/jsonl; charset=utf-8"), StreamFraming::kNdjson);
  EXPECT_EQ(framing_for_content_type("APPLICATION/NDJSON"), StreamFraming::kNdjson);
  EXPECT_EQ(framing_for_content_type("application/vnd.amazon.eventstream"),
            StreamFraming::kAwsEventStream);
  EXPECT_EQ(framing_for_content_type("application/json"), StreamFraming::kNone);
  EXPECT_EQ(framing_for_content_type(""), StreamFraming::kNone);
  EXPECT_EQ(framing_for_content_type(";"), StreamFraming::kNone);
  EXPECT_EQ(framing_for_content_type("text/event-streams"), StreamFraming::kNone);
  EXPECT_EQ(framing_for_content_type("text/plain; x=text/event-stream"), StreamFraming::kNone);
}

TEST(StreamBody, FramingForResponse) {
  EXPECT_EQ(framing_for_response(ApiFamily::kGeminiStreamGenerateContent,
                                 "application/json; charset=UTF-8"),
            StreamFraming::kJsonArray);
  EXPECT_EQ(framing_for_response(ApiFamily::kGeminiStreamGenerateContent, "text/event-stream"),
            StreamFraming::kSse);
  EXPECT_EQ(framing_for_response(ApiFamily::kGeminiGenerateContent, "application/json"),
            StreamFraming::kNone);
  EXPECT_EQ(framing_for_response(ApiFamily::kOpenAiChatCompletions, "text/event-stream"),
            StreamFraming::kSse);
  EXPECT_EQ(
      framing_for_response(ApiFamily::kBedrockConverseStream, "application/vnd.amazon.eventstream"),
      StreamFraming::kAwsEventStream);
}

TEST(StreamBody, DecodesEachFraming) {
  StreamDecodeStats stats;
  EXPECT_EQ(
      decode_stream_body(StreamFraming::kSse, "event: a\ndata: 1\n\ndata: [DONE]\n\n", &stats),
      (std::vector<StreamEvent>{event("a", "1"), data_event("[DONE]")}));
  EXPECT_EQ(stats, (StreamDecodeStats{
                       .events = 2, .events_over_cap = 0, .errors = 0, .dropped_bytes = 0}));
  EXPECT_EQ(decode_stream_body(StreamFraming::kNdjson, "{\"a\":1}\r\n\n{\"b\":2}"),
            (std::vector<StreamEvent>{data_event("{\"a\":1}"), data_event("{\"b\":2}")}));
  EXPECT_EQ(decode_stream_body(StreamFraming::kJsonArray, "[{\"a\":1}\r\n,\r\n{\"b\":2}]"),
            (std::vector<StreamEvent>{data_event("{\"a\":1}"), data_event("{\"b\":2}")}));
  EXPECT_EQ(decode_stream_body(StreamFraming::kAwsEventStream,
                               testing::aws_event("chunk", "{}") +
                                   testing::aws_exception("validationException", "{\"m\":1}")),
            (std::vector<StreamEvent>{event("chunk", "{}"),
                                      event("validationException", "{\"m\":1}", true)}));
  EXPECT_TRUE(decode_stream_body(StreamFraming::kNone, "data: x\n\n", &stats).empty());
  EXPECT_EQ(stats, StreamDecodeStats{});
}

TEST(StreamBody, ErrorsAreReported) {
  StreamDecodeStats stats;
  const auto events = decode_stream_body(StreamFraming::kJsonArray, "[{}] trailing", &stats);
  EXPECT_EQ(events.size(), 1u);
  EXPECT_EQ(stats.errors, 1u);
  EXPECT_EQ(stats.dropped_bytes, 8u);
}

TEST(StreamBody, EventCountIsCapped) {
  std::string body;
  const size_t n = kMaxStreamBodyEvents + 5;
  body.reserve(n * 8);
  for (size_t i = 0; i < n; ++i) body += "data:x\n\n";
  StreamDecodeStats stats;
  const std::vector<StreamEvent> events = decode_stream_body(StreamFraming::kSse, body, &stats);
  EXPECT_EQ(events.size(), kMaxStreamBodyEvents);
  EXPECT_EQ(stats.events, kMaxStreamBodyEvents);
  EXPECT_EQ(stats.events_over_cap, 5u);
  EXPECT_EQ(events.back(), data_event("x"));
}

TEST(StreamBody, LargeBodyAcrossSlicesDecodesWhole) {
  // One element longer than the internal slice size still comes out in one piece.
  const std::string big = "{\"t\":\"" + std::string(200000, 'q') + "\"}";
  const auto events = decode_stream_body(StreamFraming::kJsonArray, "[" + big + "]");
  EXPECT_EQ(events, std::vector<StreamEvent>{data_event(big)});
}

}  // namespace
}  // namespace llmtap::llm
