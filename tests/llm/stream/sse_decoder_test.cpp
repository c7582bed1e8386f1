#include "llm/stream/sse_decoder.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <string>
#include <vector>

#include "stream_decoder_test_support.h"

namespace llmtap::llm {
namespace {

using testing::data_event;
using testing::decode_pieces;
using testing::decode_whole;
using testing::event;
using testing::expect_random_inputs_split_invariant;
using testing::expect_split_invariant;
using testing::Outcome;

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// From the OpenAI chat completions streaming docs.
const std::string kOpenAiChat =
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,"
    "\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]"
    "}"
    "\n\n"
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,"
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},"
    "\"logprobs\":null,\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,"
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,"
    "\"total_tokens\":11}}\n\n"
    "data: [DONE]\n\n";

// From the Anthropic Messages streaming docs (shortened).
const std::string kAnthropic =
    "event: message_start\n"
    "data: {\"type\": \"message_start\", \"message\": {\"id\": "
    "\"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY\","
    " \"type\": \"message\", \"role\": \"assistant\", \"content\": [], \"model\": "
    "\"claude-3-5-sonnet-20241022\", \"stop_reason\": null, \"stop_sequence\": null, \"usage\": "
    "{\"input_tokens\": 25, \"output_tokens\": 1}}}\n\n"
    "event: content_block_start\n"
    "data: {\"type\": \"content_block_start\", \"index\": 0, \"content_block\": {\"type\": "
    "\"text\","
    " \"text\": \"\"}}\n\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\"type\": \"text_delta\","
    " \"text\": \"Hello\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\": \"content_block_stop\", \"index\": 0}\n\n"
    "event: message_delta\n"
    "data: {\"type\": \"message_delta\", \"delta\": {\"stop_reason\": \"end_turn\", "
    "\"stop_sequence\":null}, \"usage\": {\"output_tokens\": 15}}\n\n"
    "event: message_stop\n"
    "data: {\"type\": \"message_stop\"}\n\n";

TEST(SseDecoder, OpenAiChatStream) {
  const Outcome o = decode_whole<SseDecoder>(kOpenAiChat);
  ASSERT_EQ(o.events.size(), 4u);
  EXPECT_EQ(o.events[0].type, "");
  EXPECT_TRUE(o.events[0].data.starts_with("{\"id\":\"chatcmpl-123\""));
  EXPECT_TRUE(o.events[1].data.find("\"content\":\"Hello\"") != std::string::npos);
  EXPECT_EQ(o.events[3], data_event("[DONE]"));  // just data: the extractor interprets it
  EXPECT_EQ(o.event_count, 4u);
  EXPECT_EQ(o.errors, 0u);
  EXPECT_EQ(o.dropped_bytes, 0u);
  expect_split_invariant<SseDecoder>(kOpenAiChat);
}

TEST(SseDecoder, AnthropicStreamWithEventTypes) {
  const Outcome o = decode_whole<SseDecoder>(kAnthropic);
  std::vector<std::string> types;
  for (const StreamEvent& e : o.events) types.push_back(e.type);
  EXPECT_EQ(types, (std::vector<std::string>{"message_start", "content_block_start", "ping",
                                             "content_block_delta", "content_block_stop",
                                             "message_delta", "message_stop"}));
  EXPECT_EQ(o.events[2].data, "{\"type\": \"ping\"}");
  EXPECT_EQ(o.events[6], event("message_stop", "{\"type\": \"message_stop\"}"));
  expect_split_invariant<SseDecoder>(kAnthropic);
}

TEST(SseDecoder, CrLfAndCrLineEndingsGiveTheSameEvents) {
  const Outcome lf = decode_whole<SseDecoder>(kAnthropic);
  const std::string crlf = replace_all(kAnthropic, "\n", "\r\n");
  const std::string cr = replace_all(kAnthropic, "\n", "\r");
  EXPECT_EQ(decode_whole<SseDecoder>(crlf), lf);
  EXPECT_EQ(decode_whole<SseDecoder>(cr), lf);
  expect_split_invariant<SseDecoder>(crlf);
  expect_split_invariant<SseDecoder>(cr);
  // Mixed endings in one stream; a CRLF split across feeds is one line end, not two.
  const std::string mixed = "data: a\r\ndata: b\rdata: c\n\r\n\ndata: d\r\r";
  const Outcome o = decode_whole<SseDecoder>(mixed);
  EXPECT_EQ(o.events, (std::vector<StreamEvent>{data_event("a\nb\nc"), data_event("d")}));
  expect_split_invariant<SseDecoder>(mixed);
}

TEST(SseDecoder, FieldParsingFollowsTheSpec) {
  const std::string input =
      "data:no space\n"
      "data:  two spaces\n"
      "data\n"        // no colon: the field name is the whole line, value empty
      "data: a: b\n"  // only the first colon separates
      ": this is a comment\n"
      "unknown: ignored\n"
      "event: first\n"
      "event: second\n"  // the last one wins
      "id: 42\n"
      "retry: 1500\n"
      "\n";
  SseDecoder decoder;
  std::vector<StreamEvent> out;
  decoder.feed(input, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], event("second", "no space\n two spaces\n\na: b"));
  EXPECT_EQ(decoder.last_event_id(), "42");
  EXPECT_EQ(decoder.retry_ms(), 1500u);
  expect_split_invariant<SseDecoder>(input);
}

TEST(SseDecoder, InvalidRetryAndIdWithNulAreIgnored) {
  SseDecoder decoder;
  std::vector<StreamEvent> out;
  decoder.feed(std::string("id: 7\nretry: 10\n\nid: x\0y\nretry: 1s\nretry:\n\n", 41), out);
  EXPECT_EQ(decoder.last_event_id(), "7");
  EXPECT_EQ(decoder.retry_ms(), 10u);
  EXPECT_TRUE(out.empty());
}

TEST(SseDecoder, EventsWithoutDataAreNotDispatched) {
  const Outcome o = decode_whole<SseDecoder>("event: ping\n\n: keep-alive\n\nid: 3\n\ndata:\n\n");
  // Only the last one has a data line (empty): the spec dispatches it with empty data.
  EXPECT_EQ(o.events, std::vector<StreamEvent>{data_event("")});
  EXPECT_EQ(o.errors, 0u);
}

TEST(SseDecoder, EventTypeDoesNotLeakIntoTheNextEvent) {
  const Outcome o = decode_whole<SseDecoder>("event: a\n\ndata: x\n\nevent: b\ndata: y\n\n");
  EXPECT_EQ(o.events, (std::vector<StreamEvent>{data_event("x"), event("b", "y")}));
}

TEST(SseDecoder, ByteOrderMarkAtStartIsSkippedOnce) {
  const std::string bom = "\xEF\xBB\xBF";
  const Outcome o = decode_whole<SseDecoder>(bom + "data: x\n\ndata: " + bom + "y\n\n");
  EXPECT_EQ(o.events, (std::vector<StreamEvent>{data_event("x"), data_event(bom + "y")}));
  expect_split_invariant<SseDecoder>(bom + "data: x\n\n");
  // A BOM in the middle of the first line is not a BOM; nor is a prefix of one.
  EXPECT_EQ(decode_whole<SseDecoder>("d" + bom + "\n\n").events.size(), 0u);
  EXPECT_EQ(decode_whole<SseDecoder>("\xEF\xBB"
                                     "data: z\n\n")
                .events.size(),
            0u);
  expect_split_invariant<SseDecoder>(
      "\xEF\xBB"
      "\ndata: z\n\n");
  EXPECT_EQ(decode_whole<SseDecoder>("\xEF\xBB"
                                     "\ndata: z\n\n")
                .events,
            std::vector<StreamEvent>{data_event("z")});
  // A body shorter than a BOM still reaches the decoder.
  EXPECT_EQ(decode_whole<SseDecoder>("\xEF").errors, 0u);
}

TEST(SseDecoder, FinishFlushesAnUnterminatedEvent) {
  EXPECT_EQ(decode_whole<SseDecoder>("data: [DONE]").events,
            std::vector<StreamEvent>{data_event("[DONE]")});
  EXPECT_EQ(decode_whole<SseDecoder>("event: end\ndata: x\n").events,
            std::vector<StreamEvent>{event("end", "x")});
  EXPECT_EQ(decode_whole<SseDecoder>("event: end\n").events.size(), 0u);
  expect_split_invariant<SseDecoder>("data: a\n\ndata: b\r");
}

TEST(SseDecoder, DecoderIsReusableAfterFinish) {
  SseDecoder decoder;
  std::vector<StreamEvent> out;
  decoder.feed(
      "\xEF\xBB\xBF"
      "event: t\ndata: 1",
      out);
  decoder.finish(out);
  decoder.feed(
      "\xEF\xBB\xBF"
      "data: 2\n\n",
      out);
  decoder.finish(out);
  EXPECT_EQ(out, (std::vector<StreamEvent>{event("t", "1"), data_event("2")}));
  EXPECT_EQ(decoder.events(), 2u);
}

TEST(SseDecoder, OversizeEventIsDroppedAndTheNextOneDecoded) {
  const StreamLimits limits{.max_event_bytes = 64};
  const std::string big =
      "event: big\ndata: " + std::string(40, 'a') + "\ndata: " + std::string(40, 'b') + "\r\n\r\n";
  const std::string input = "data: small\n\n" + big + "data: after\n\n";
  const Outcome o = decode_whole<SseDecoder>(input, limits);
  EXPECT_EQ(o.events, (std::vector<StreamEvent>{data_event("small"), data_event("after")}));
  EXPECT_EQ(o.errors, 1u);
  // The LF of the CRLF that ends the dropped event's blank line counts with the next event.
  EXPECT_EQ(o.dropped_bytes, big.size() - 1);
  expect_split_invariant<SseDecoder>(input, limits);
  // At the limit exactly, the event is kept.
  const std::string fits = "data: " + std::string(58, 'x') + "\n\n";
  EXPECT_EQ(decode_whole<SseDecoder>(fits, limits).events.size(), 1u);
  EXPECT_EQ(decode_whole<SseDecoder>("data: " + std::string(59, 'x') + "\n\n", limits).errors, 1u);
}

TEST(SseDecoder, LongCommentsAreNeverKeptSoNeverTooBig) {
  const StreamLimits limits{.max_event_bytes = 16};
  const std::string input = ":" + std::string(1000, 'p') + "\ndata: ok\n\n";
  const Outcome o = decode_whole<SseDecoder>(input, limits);
  EXPECT_EQ(o.events, std::vector<StreamEvent>{data_event("ok")});
  EXPECT_EQ(o.errors, 0u);
  expect_split_invariant<SseDecoder>(input, limits);
}

TEST(SseDecoder, OversizeUnterminatedEventAtFinishIsCounted) {
  const StreamLimits limits{.max_event_bytes = 8};
  const Outcome o = decode_whole<SseDecoder>("data: 0123456789", limits);
  EXPECT_TRUE(o.events.empty());
  EXPECT_EQ(o.errors, 1u);
  EXPECT_EQ(o.dropped_bytes, 16u);
}

size_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

TEST(SseDecoder, MemoryStaysBoundedOnAnEndlessLine) {
  SseDecoder decoder;  // default limit: 4 MiB
  std::vector<StreamEvent> out;
  const std::string piece(1 << 20, 'a');
  decoder.feed("data: ", out);
  const size_t before = heap_in_use();
  for (int i = 0; i < 64; ++i) decoder.feed(piece, out);
  EXPECT_LT(heap_in_use() - before, size_t{10} << 20);
  decoder.feed("\n\ndata: next\n\n", out);
  EXPECT_EQ(out, std::vector<StreamEvent>{data_event("next")});
  EXPECT_EQ(decoder.errors(), 1u);
}

TEST(SseDecoder, RandomInputsDecodeTheSameWhereverCut) {
  const std::vector<std::string> atoms = {"data",
                                          "event",
                                          "id",
                                          "retry",
                                          ":",
                                          " ",
                                          "\r",
                                          "\n",
                                          "\r\n",
                                          "x",
                                          "\xEF\xBB\xBF",
                                          "0",
                                          std::string(1, '\0')};
  expect_random_inputs_split_invariant<SseDecoder>(7, 300, atoms, 24);
}

}  // namespace
}  // namespace llmtap::llm
