#include "llm/stream/json_array_stream_decoder.h"

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

// A Gemini streamGenerateContent body without alt=sse, as the service sends it.
const std::string kGeminiFirst =
    "{\n  \"candidates\": [\n    {\n      \"content\": {\n        \"parts\": [\n          {\n"
    "            \"text\": \"The [sky] is {blue}, \\\"mostly\\\"\"\n          }\n        ],\n"
    "        \"role\": \"model\"\n      },\n      \"index\": 0\n    }\n  ],\n"
    "  \"usageMetadata\": {\n    \"promptTokenCount\": 8,\n    \"totalTokenCount\": 8\n  },\n"
    "  \"modelVersion\": \"gemini-1.5-flash\"\n}";
const std::string kGeminiLast =
    "{\n  \"candidates\": [\n    {\n      \"content\": {\n        \"parts\": [\n          {\n"
    "            \"text\": \" today.\\\\\"\n          }\n        ],\n        \"role\": \"model\"\n"
    "      },\n      \"finishReason\": \"STOP\",\n      \"index\": 0\n    }\n  ],\n"
    "  \"usageMetadata\": {\n    \"promptTokenCount\": 8,\n    \"candidatesTokenCount\": 6,\n"
    "    \"totalTokenCount\": 14\n  },\n  \"modelVersion\": \"gemini-1.5-flash\"\n}";
const std::string kGemini = "[" + kGeminiFirst + "\r\n,\r\n" + kGeminiLast + "\r\n]";

TEST(JsonArrayStreamDecoder, GeminiStreamedArray) {
  const Outcome o = decode_whole<JsonArrayStreamDecoder>(kGemini);
  EXPECT_EQ(o.events,
            (std::vector<StreamEvent>{data_event(kGeminiFirst), data_event(kGeminiLast)}));
  EXPECT_EQ(o.errors, 0u);
  EXPECT_EQ(o.dropped_bytes, 0u);
  expect_split_invariant<JsonArrayStreamDecoder>(kGemini);
}

TEST(JsonArrayStreamDecoder, ElementsComeOutAsSoonAsTheyAreComplete) {
  JsonArrayStreamDecoder decoder;
  std::vector<StreamEvent> out;
  decoder.feed("[" + kGeminiFirst.substr(0, 10), out);
  EXPECT_TRUE(out.empty());
  decoder.feed(kGeminiFirst.substr(10), out);
  EXPECT_EQ(out, std::vector<StreamEvent>{data_event(kGeminiFirst)});
  decoder.feed("\r\n,\r\n{\"x\":1}", out);
  EXPECT_EQ(out.size(), 2u);
  decoder.finish(out);  // no closing bracket: the stream was cut, but no element was
  EXPECT_EQ(decoder.errors(), 0u);
}

TEST(JsonArrayStreamDecoder, StringsAndScalarsAsElements) {
  const std::string input = " [1, \"a]\\\"}\" ,true,null,-2.5e3 ,[],{}, \"\\\\\"]  ";
  const Outcome o = decode_whole<JsonArrayStreamDecoder>(input);
  EXPECT_EQ(o.events,
            (std::vector<StreamEvent>{data_event("1"), data_event("\"a]\\\"}\""),
                                      data_event("true"), data_event("null"), data_event("-2.5e3"),
                                      data_event("[]"), data_event("{}"), data_event("\"\\\\\"")}));
  EXPECT_EQ(o.errors, 0u);
  expect_split_invariant<JsonArrayStreamDecoder>(input);
}

TEST(JsonArrayStreamDecoder, EmptyArrayAndExtraCommas) {
  EXPECT_EQ(decode_whole<JsonArrayStreamDecoder>(" [ ] ").events.size(), 0u);
  EXPECT_EQ(decode_whole<JsonArrayStreamDecoder>(" [ ] ").errors, 0u);
  const Outcome o = decode_whole<JsonArrayStreamDecoder>("[,{},,{},]");
  EXPECT_EQ(o.events.size(), 2u);
  EXPECT_EQ(o.errors, 0u);
}

TEST(JsonArrayStreamDecoder, SingleObjectBodyIsOneElement) {
  const std::string error = "{\"error\": {\"code\": 429, \"message\": \"Resource exhausted\"}}";
  const Outcome o = decode_whole<JsonArrayStreamDecoder>("\n" + error + "\n");
  EXPECT_EQ(o.events, std::vector<StreamEvent>{data_event(error)});
  EXPECT_EQ(o.errors, 0u);
  EXPECT_EQ(decode_whole<JsonArrayStreamDecoder>(error + "{}").errors, 1u);
}

TEST(JsonArrayStreamDecoder, MalformedBodiesStopTheDecoder) {
  struct Case {
    std::string input;
    size_t events;
    uint64_t dropped_bytes;
    std::string why;
  };
  const std::vector<Case> cases = {
      {"hello", 0, 5, "body is not a JSON array"},
      {"[{}{}]", 1, 3, "missing comma between elements"},
      {"[{}]x", 1, 1, "bytes after the array"},
      {"[{]}, {}]", 0, 8, "mismatched bracket"},
      {"[}]", 0, 2, "unexpected byte between elements"},
      {"[{\"a\":1}}, {}]", 1, 6, "missing comma between elements"},
      {"[1:2]", 1, 3, "missing comma between elements"},
  };
  for (const Case& c : cases) {
    JsonArrayStreamDecoder decoder;
    std::vector<StreamEvent> out;
    decoder.feed(c.input, out);
    EXPECT_TRUE(decoder.failed()) << c.input;
    EXPECT_EQ(out.size(), c.events) << c.input;
    EXPECT_EQ(decoder.errors(), 1u) << c.input;
    EXPECT_EQ(decoder.dropped_bytes(), c.dropped_bytes) << c.input;
    EXPECT_EQ(decoder.error(), c.why) << c.input;
    decoder.feed("[{}]", out);  // ignored, and counted
    EXPECT_EQ(out.size(), c.events);
    EXPECT_EQ(decoder.dropped_bytes(), c.dropped_bytes + 4);
    expect_split_invariant<JsonArrayStreamDecoder>(c.input + "[{}]");
  }
}

TEST(JsonArrayStreamDecoder, NestingIsBounded) {
  const size_t max = JsonArrayStreamDecoder::kMaxDepth;
  const std::string ok = "[" + std::string(max, '[') + std::string(max, ']') + "]";
  const Outcome fine = decode_whole<JsonArrayStreamDecoder>(ok);
  EXPECT_EQ(fine.events.size(), 1u);
  EXPECT_EQ(fine.errors, 0u);
  const std::string deep = "[" + std::string(max + 1, '{') + "]";
  JsonArrayStreamDecoder decoder;
  std::vector<StreamEvent> out;
  decoder.feed(deep, out);
  EXPECT_TRUE(decoder.failed());
  EXPECT_EQ(decoder.error(), "nesting too deep");
  EXPECT_EQ(decoder.dropped_bytes(), deep.size() - 1);
  // Brackets inside strings do not nest.
  const std::string in_string = "[\"" + std::string(10 * max, '[') + "\"]";
  EXPECT_EQ(decode_whole<JsonArrayStreamDecoder>(in_string).errors, 0u);
}

TEST(JsonArrayStreamDecoder, ElementCutShortAtFinishIsAnError) {
  const Outcome o = decode_whole<JsonArrayStreamDecoder>("[{\"a\":1},{\"b\":");
  EXPECT_EQ(o.events, std::vector<StreamEvent>{data_event("{\"a\":1}")});
  EXPECT_EQ(o.errors, 1u);
  EXPECT_EQ(o.dropped_bytes, 5u);
  JsonArrayStreamDecoder decoder;  // and the decoder starts over after finish
  std::vector<StreamEvent> out;
  decoder.feed("[1", out);
  decoder.finish(out);
  decoder.feed("[2]", out);
  decoder.finish(out);
  EXPECT_EQ(out, std::vector<StreamEvent>{data_event("2")});
}

TEST(JsonArrayStreamDecoder, OversizeElementIsDroppedAndTheNextOneDecoded) {
  const StreamLimits limits{.max_event_bytes = 16};
  const std::string big = "{\"t\":\"" + std::string(20, 'x') + "\"}";
  const std::string input = "[{\"a\":1}," + big + ",{\"b\":2}]";
  const Outcome o = decode_whole<JsonArrayStreamDecoder>(input, limits);
  EXPECT_EQ(o.events, (std::vector<StreamEvent>{data_event("{\"a\":1}"), data_event("{\"b\":2}")}));
  EXPECT_EQ(o.errors, 1u);
  EXPECT_EQ(o.dropped_bytes, big.size());
  expect_split_invariant<JsonArrayStreamDecoder>(input, limits);
  const std::string fits = "[\"" + std::string(14, 'y') + "\"]";
  EXPECT_EQ(decode_whole<JsonArrayStreamDecoder>(fits, limits).events.size(), 1u);
}

TEST(JsonArrayStreamDecoder, RandomInputsDecodeTheSameWhereverCut) {
  const std::vector<std::string> atoms = {"[", "]", "{", "}", "\"", "\\", ",", " ", "1", "a", ":"};
  expect_random_inputs_split_invariant<JsonArrayStreamDecoder>(13, 500, atoms, 16, "[");
}

}  // namespace
}  // namespace llmtap::llm
