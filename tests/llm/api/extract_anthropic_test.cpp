#include <gtest/gtest.h>

#include "api_test_helpers.h"

namespace llmtap::llm {
namespace {

using test::body;
using test::kWithText;
using test::stream;

TEST(AnthropicMessages, BodyWithCache) {
  const ResponseFacts f = body(ApiFamily::kAnthropicMessages, R"({
    "id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-20250514",
    "content":[{"type":"thinking","thinking":"hmm"},{"type":"text","text":"Hello"}],
    "stop_reason":"end_turn","stop_sequence":null,
    "usage":{"input_tokens":21,"cache_creation_input_tokens":310,"cache_read_input_tokens":2048,"output_tokens":48}})",
                               200, kWithText);
  EXPECT_EQ(f.model, "claude-sonnet-4-20250514");
  EXPECT_EQ(f.response_id, "msg_1");
  EXPECT_EQ(f.finish_reason, "end_turn");
  EXPECT_EQ(f.tokens.input, 21u);
  EXPECT_EQ(f.tokens.output, 48u);
  EXPECT_EQ(f.tokens.cached, 2048u);
  EXPECT_EQ(f.tokens.cache_creation, 310u);
  EXPECT_EQ(f.tokens.total, 69u);
  EXPECT_EQ(f.completion_text, "Hello");
}

TEST(AnthropicMessages, ErrorBody) {
  const ResponseFacts f =
      body(ApiFamily::kAnthropicMessages,
           R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", 529);
  EXPECT_EQ(f.error_type, "overloaded_error");
  EXPECT_EQ(f.error_message, "Overloaded");
}

TEST(AnthropicMessages, StreamTakesLatestNonZeroCounts) {
  const ResponseFacts f = stream(
      ApiFamily::kAnthropicMessages,
      {{"message_start",
        R"({"type":"message_start","message":{"id":"msg_2","model":"claude-3-7-sonnet-20250219","usage":{"input_tokens":25,"output_tokens":1}}})"},
       {"content_block_delta",
        R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"mull"}})"},
       {"content_block_delta",
        R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi"}})"},
       {"ping", R"({"type":"ping"})"},
       // message_delta may repeat input tokens, as zero or as the real count.
       {"message_delta",
        R"({"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"input_tokens":0,"output_tokens":15}})"},
       {"message_stop", R"({"type":"message_stop"})"}},
      kWithText);
  EXPECT_EQ(f.tokens.input, 25u);
  EXPECT_EQ(f.tokens.output, 15u);
  EXPECT_EQ(f.tokens.total, 40u);
  EXPECT_EQ(f.finish_reason, "max_tokens");
  EXPECT_EQ(f.completion_text, "Hi");
  EXPECT_TRUE(f.saw_stream_end);
  EXPECT_EQ(f.stream_events, 6u);
}

TEST(AnthropicMessages, ErrorEventMidStream) {
  const ResponseFacts f = stream(
      ApiFamily::kAnthropicMessages,
      {{"message_start",
        R"({"type":"message_start","message":{"model":"claude-opus-4-20250514","usage":{"input_tokens":31,"output_tokens":1}}})"},
       {"error",
        R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"}});
  EXPECT_EQ(f.error_type, "overloaded_error");
  EXPECT_FALSE(f.saw_stream_end);
  EXPECT_EQ(f.model, "claude-opus-4-20250514");
}

TEST(AnthropicMessages, EventTypeFromDataWhenSseHasNoEventField) {
  const ResponseFacts f = stream(
      ApiFamily::kAnthropicMessages,
      {{"",
        R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}})"},
       {"", R"({"type":"message_stop"})"}});
  EXPECT_EQ(f.tokens.output, 3u);
  EXPECT_TRUE(f.saw_stream_end);
}

}  // namespace
}  // namespace llmtap::llm
