#include "http/http2_stream_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "http2_frame_builder.h"

namespace llmtap::http {
namespace {

using test::Fields;
using test::h2_data;
using test::h2_frame;
using test::h2_goaway;
using test::h2_headers;
using test::h2_ping;
using test::h2_preface;
using test::h2_push_promise;
using test::h2_rst_stream;
using test::h2_settings;
using test::h2_settings_ack;
using test::h2_window_update;
using test::HpackEncoder;
using test::join;
using Side = Http2StreamParser::Side;

const Fields kPost = {{":method", "POST"},
                      {":scheme", "https"},
                      {":authority", "api.openai.com"},
                      {":path", "/v1/chat/completions"},
                      {"content-type", "application/json"},
                      {"authorization", "Bearer sk-test"}};
const Fields kOk = {{":status", "200"}, {"content-type", "text/event-stream"}};

// Everything a parse produced, comparable across ways of feeding the same bytes.
struct Result {
  std::vector<HttpMessage> messages;
  std::vector<uint32_t> reset_ids;
  std::vector<std::optional<uint32_t>> settings;
  bool failed = false;
  bool operator==(const Result&) const = default;
};

Result parse_in_pieces(Side side, std::string_view bytes, size_t piece,
                       Http2StreamParser::Limits limits = {}) {
  Http2StreamParser parser(side, limits);
  Result result;
  Http2Output out;
  for (size_t at = 0; at < bytes.size(); at += piece) {
    parser.feed(bytes.substr(at, piece), 1000 + at, out);
  }
  for (HttpMessage& m : out.messages) {
    m.first_ns = m.last_ns = 0;  // depend on the cut, compared separately
    result.messages.push_back(std::move(m));
  }
  for (const Http2StreamReset& r : out.resets) result.reset_ids.push_back(r.stream_id);
  result.settings = out.settings;
  result.failed = parser.failed();
  return result;
}

Result parse(Side side, std::string_view bytes, Http2StreamParser::Limits limits = {}) {
  return parse_in_pieces(side, bytes, bytes.empty() ? 1 : bytes.size(), limits);
}

std::string client_stream_with_one_request(HpackEncoder& hpack) {
  return h2_preface() + h2_settings({{1, 4096}, {4, 65535}}) + h2_window_update(0, 1 << 20) +
         h2_headers(hpack, 1, kPost, false) + h2_data(1, R"({"model":)", false) +
         h2_data(1, R"("gpt"})", true);
}

TEST(Http2StreamParser, RequestWithHeadersAndData) {
  HpackEncoder hpack;
  const std::string bytes = client_stream_with_one_request(hpack);
  const Result r = parse(Side::kClient, bytes);
  ASSERT_FALSE(r.failed);
  ASSERT_EQ(r.messages.size(), 1u);
  const HttpMessage& m = r.messages[0];
  EXPECT_TRUE(m.is_request);
  EXPECT_EQ(m.stream_id, 1u);
  EXPECT_EQ(m.method, "POST");
  EXPECT_EQ(m.target, "/v1/chat/completions");
  EXPECT_EQ(header(m, "host"), "api.openai.com");
  EXPECT_EQ(header(m, "authorization"), "Bearer sk-test");
  EXPECT_FALSE(header(m, ":method"));
  EXPECT_EQ(m.body, R"({"model":"gpt"})");
  EXPECT_EQ(m.body_bytes, m.body.size());
  // Wire bytes: the stream's frames only (not the preface, SETTINGS or WINDOW_UPDATE).
  const size_t connection_bytes = h2_preface().size() +
                                  h2_settings({{1, 4096}, {4, 65535}}).size() +
                                  h2_window_update(0, 1).size();
  EXPECT_EQ(m.wire_bytes, bytes.size() - connection_bytes);
  ASSERT_EQ(r.settings.size(), 1u);
  EXPECT_EQ(r.settings[0], 4096u);
}

TEST(Http2StreamParser, ResponseWithStatusTrailersAndTimes) {
  HpackEncoder hpack;
  Http2StreamParser parser(Side::kServer);
  Http2Output out;
  parser.feed(h2_settings() + h2_headers(hpack, 1, kOk, false), 100, out);
  parser.feed(h2_data(1, "data: a\n\n", false), 200, out);
  EXPECT_TRUE(out.messages.empty());
  parser.feed(
      h2_data(1, "data: [DONE]\n\n", false) + h2_headers(hpack, 1, {{"grpc-status", "0"}}, true),
      300, out);
  ASSERT_EQ(out.messages.size(), 1u);
  const HttpMessage& m = out.messages[0];
  EXPECT_FALSE(m.is_request);
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.body, "data: a\n\ndata: [DONE]\n\n");
  ASSERT_EQ(m.trailers.size(), 1u);
  EXPECT_EQ(m.trailers[0], (HttpHeader{"grpc-status", "0"}));
  EXPECT_EQ(m.first_ns, 100u);
  EXPECT_EQ(m.last_ns, 300u);
}

TEST(Http2StreamParser, ContinuationPaddingAndPriority) {
  HpackEncoder hpack;
  Fields big = kPost;
  for (int i = 0; i < 40; ++i)
    big.push_back({"x-header-" + std::to_string(i), std::string(50, 'v')});
  const std::string bytes = h2_preface() + h2_headers(hpack, 3, big, false, 100, 7, true) +
                            h2_data(3, "body", false, 10) + h2_data(3, "", true, 0);
  const Result r = parse(Side::kClient, bytes);
  ASSERT_FALSE(r.failed);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].headers.size(), 2u + 40u + 1u);  // + host from :authority
  EXPECT_EQ(r.messages[0].body, "body");
  EXPECT_EQ(r.messages[0].wire_bytes, bytes.size() - h2_preface().size());
}

TEST(Http2StreamParser, InterleavedStreamsEndInTheirOwnOrder) {
  HpackEncoder hpack;
  std::string bytes = h2_preface();
  bytes += h2_headers(hpack, 1, kPost, false);
  bytes += h2_headers(hpack, 3, kPost, false);
  bytes += h2_headers(hpack, 5, {{":method", "GET"}, {":path", "/v1/models"}}, true);
  bytes += h2_data(3, "three-a ", false);
  bytes += h2_data(1, "one-a ", false);
  bytes += h2_data(3, "three-b", true);
  bytes += h2_data(1, "one-b", true);
  const Result r = parse(Side::kClient, bytes);
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].stream_id, 5u);
  EXPECT_EQ(r.messages[0].method, "GET");
  EXPECT_EQ(r.messages[1].stream_id, 3u);
  EXPECT_EQ(r.messages[1].body, "three-a three-b");
  EXPECT_EQ(r.messages[2].stream_id, 1u);
  EXPECT_EQ(r.messages[2].body, "one-a one-b");
}

TEST(Http2StreamParser, EverySplitGivesTheSameResult) {
  HpackEncoder hpack;
  std::string bytes = client_stream_with_one_request(hpack);
  bytes += h2_headers(hpack, 3, kPost, false, 20, 3, true) + h2_data(3, "x", false, 5) + h2_ping() +
           h2_data(3, "yz", true) + h2_rst_stream(5, 8) + h2_settings_ack();
  const Result whole = parse(Side::kClient, bytes);
  ASSERT_FALSE(whole.failed);
  ASSERT_EQ(whole.messages.size(), 2u);
  for (size_t piece = 1; piece < 40; ++piece) {
    EXPECT_EQ(parse_in_pieces(Side::kClient, bytes, piece), whole) << piece;
  }
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
    Http2StreamParser parser(Side::kClient);
    Http2Output out;
    parser.feed(std::string_view(bytes).substr(0, cut), 1, out);
    parser.feed(std::string_view(bytes).substr(cut), 2, out);
    ASSERT_EQ(out.messages.size(), 2u) << cut;
    EXPECT_EQ(out.messages[1].body, "xyz");
  }
}

TEST(Http2StreamParser, RstStreamReportsThePartialMessage) {
  HpackEncoder hpack;
  Http2StreamParser parser(Side::kServer);
  Http2Output out;
  parser.feed(h2_headers(hpack, 1, kOk, false) + h2_data(1, "partial", false) +
                  h2_rst_stream(1, 2) + h2_rst_stream(7, 8),
              5, out);
  EXPECT_TRUE(out.messages.empty());
  ASSERT_EQ(out.resets.size(), 2u);
  EXPECT_EQ(out.resets[0].stream_id, 1u);
  EXPECT_EQ(out.resets[0].error_code, 2u);
  ASSERT_TRUE(out.resets[0].partial);
  EXPECT_EQ(out.resets[0].partial->body, "partial");
  EXPECT_FALSE(out.resets[1].partial);  // a stream never seen
  EXPECT_EQ(parser.open_streams(), 0u);
}

TEST(Http2StreamParser, AbortAndCloseReturnPartialMessages) {
  HpackEncoder hpack;
  Http2StreamParser parser(Side::kClient);
  Http2Output out;
  parser.feed(join({h2_preface(), h2_headers(hpack, 1, kPost, false), h2_data(1, "a", false),
                    h2_headers(hpack, 3, kPost, false), h2_data(3, "b", false)}),
              5, out);
  std::optional<HttpMessage> one = parser.abort_stream(1);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->body, "a");
  EXPECT_FALSE(parser.abort_stream(1));
  std::vector<HttpMessage> open = parser.take_open_streams();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].stream_id, 3u);
  EXPECT_EQ(parser.open_streams(), 0u);
}

TEST(Http2StreamParser, PushPromiseKeepsTheHpackStateInStep) {
  HpackEncoder hpack;
  std::string bytes = h2_settings() + h2_headers(hpack, 1, kOk, false);
  // The promised request's fields enter the dynamic table; later blocks refer to them.
  const Fields promised = {{":method", "GET"}, {":path", "/pushed"}, {"x-custom", "value-1"}};
  bytes += h2_push_promise(hpack, 1, 2, promised);
  bytes += h2_data(1, "body", true);
  bytes += h2_headers(hpack, 3, {{":status", "201"}, {"x-custom", "value-1"}}, true);
  const Result r = parse(Side::kServer, bytes);
  ASSERT_FALSE(r.failed);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].status, 201);
  EXPECT_EQ(header(r.messages[1], "x-custom"), "value-1");
}

TEST(Http2StreamParser, InformationalResponseIsSkipped) {
  HpackEncoder hpack;
  const Result r = parse(Side::kServer,
                         join({h2_headers(hpack, 1, {{":status", "103"}, {"link", "</a>"}}, false),
                               h2_headers(hpack, 1, kOk, false), h2_data(1, "ok", true)}));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].status, 200);
  EXPECT_FALSE(header(r.messages[0], "link"));
}

TEST(Http2StreamParser, HeaderTableSizeAppliesAtTheAck) {
  // The client allows a 64 KiB table; the server's encoder then uses it.
  HpackEncoder server_hpack(65536);
  Http2StreamParser server(Side::kServer);
  server.on_peer_settings(65536);
  Http2Output out;
  server_hpack.change_table_size(65536);
  const std::string big(10000, 'v');  // fits only a table larger than 4096
  server.feed(join({h2_settings(), h2_settings_ack(),
                    h2_headers(server_hpack, 1, {{":status", "200"}, {"x-big", big}}, true),
                    h2_headers(server_hpack, 3, {{":status", "200"}, {"x-big", big}}, true)}),
              1, out);
  ASSERT_FALSE(server.failed()) << server.error();
  ASSERT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(header(out.messages[1], "x-big"), big);
}

TEST(Http2StreamParser, TableSizeUpdateBeyondTheSettingIsAnError) {
  HpackEncoder hpack(65536);
  hpack.change_table_size(65536);  // never allowed by the peer
  const Result r = parse(Side::kServer, h2_headers(hpack, 1, kOk, true));
  EXPECT_TRUE(r.failed);
}

TEST(Http2StreamParser, BodyOverTheLimitIsCountedNotKept) {
  HpackEncoder hpack;
  Http2StreamParser parser(Side::kServer, {.max_body_kept = 10});
  Http2Output out;
  parser.feed(h2_headers(hpack, 1, kOk, false), 1, out);
  for (int i = 0; i < 100; ++i) parser.feed(h2_data(1, std::string(1000, 'x'), false), 1, out);
  parser.feed(h2_data(1, "", true), 1, out);
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].body, std::string(10, 'x'));
  EXPECT_EQ(out.messages[0].body_bytes, 100000u);
  EXPECT_TRUE(out.messages[0].body_truncated);
}

// A body whose length the headers declare is stored in one allocation with slack past it,
// however many DATA frames bring it (a list of equal lengths is one length); a length that
// is not a number, or a list that disagrees, reserves nothing.
TEST(Http2StreamParser, DeclaredBodyIsStoredOnceWithSlackPastItsEnd) {
  for (const std::string length : {"200000", "2000000", "200000, 200000", "20x", "200000, 1"}) {
    HpackEncoder hpack;
    Http2StreamParser parser(Side::kServer, {.max_body_kept = 1 << 20});
    Http2Output out;
    Fields head = kOk;
    head.push_back({"content-length", length});
    parser.feed(h2_headers(hpack, 1, head, false), 1, out);
    for (int i = 0; i < 12; ++i) parser.feed(h2_data(1, std::string(16384, 'x'), false), 1, out);
    parser.feed(h2_data(1, std::string(3392, 'x'), true), 1, out);
    ASSERT_EQ(out.messages.size(), 1u) << length;
    const HttpMessage& m = out.messages[0];
    EXPECT_EQ(m.body, std::string(200000, 'x')) << length;
    if (length == "20x" || length == "200000, 1") {
      EXPECT_LT(m.body.capacity(), 200000u + 64 * 1024) << "grew as it came";
      continue;
    }
    const size_t reserved = std::min<size_t>(std::stoul(length), 1 << 20);
    EXPECT_GE(m.body.capacity(), reserved + kBodySlack) << length;
    EXPECT_LT(m.body.capacity(), reserved + 4096) << length;
  }
}

TEST(Http2StreamParser, HeadFilterCanSkipTheBody) {
  HpackEncoder hpack;
  Http2StreamParser parser(Side::kClient);
  parser.set_head_filter([](const HttpMessage& head) { return head.target != "/skip"; });
  Http2Output out;
  parser.feed(
      join({h2_preface(), h2_headers(hpack, 1, {{":method", "POST"}, {":path", "/skip"}}, false),
            h2_data(1, "secret", true),
            h2_headers(hpack, 3, {{":method", "POST"}, {":path", "/keep"}}, false),
            h2_data(3, "kept", true)}),
      1, out);
  ASSERT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(out.messages[0].body, "");
  EXPECT_TRUE(out.messages[0].body_skipped);
  EXPECT_EQ(out.messages[0].body_bytes, 6u);
  EXPECT_EQ(out.messages[1].body, "kept");
}

TEST(Http2StreamParser, TrackedStreamsAreBounded) {
  HpackEncoder hpack;
  Http2StreamParser parser(Side::kClient, {.max_streams = 8});
  Http2Output out;
  parser.feed(h2_preface(), 1, out);
  for (uint32_t id = 1; id < 200; id += 2) parser.feed(h2_headers(hpack, id, kPost, false), 1, out);
  EXPECT_EQ(parser.open_streams(), 8u);
  EXPECT_EQ(parser.evicted_streams(), 100u - 8u);
  parser.feed(h2_data(199, "last", true) + h2_data(1, "evicted", true), 1, out);
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].stream_id, 199u);
  EXPECT_EQ(parser.orphan_data_bytes(), 7u);
}

TEST(Http2StreamParser, MalformedInputIsAnErrorAndStaysOne) {
  HpackEncoder hpack;
  const std::vector<std::string> bad = {
      "GET / HTTP/1.1\r\n\r\n",                               // not the preface
      h2_preface() + h2_frame(h2::kPing, 0, 0, "short"),      // PING must be 8 bytes
      h2_preface() + h2_frame(h2::kSettings, 0, 1, ""),       // SETTINGS on a stream
      h2_preface() + h2_frame(h2::kSettings, 0, 0, "12345"),  // not 6-byte settings
      h2_preface() + h2_frame(h2::kData, 0, 0, "x"),          // DATA on stream 0
      h2_preface() + h2_frame(h2::kData, h2::kPadded, 1, std::string("\x05", 1) + "ab"),
      h2_preface() + h2_frame(h2::kHeaders, h2::kEndHeaders, 1, "\xff\xff\xff"),  // bad HPACK
      h2_preface() + h2_headers(hpack, 1, kPost, false, 10).substr(0, 19) + h2_ping(),
      h2_preface() + h2_frame(h2::kContinuation, h2::kEndHeaders, 1, ""),
      h2_preface() + h2_frame(h2::kRstStream, 0, 1, "12"),
      h2_preface() + h2_frame(h2::kHeaders, 0, 1, std::string(300 * 1024, 'a')),  // too large
  };
  for (const std::string& bytes : bad) {
    Http2StreamParser parser(Side::kClient);
    Http2Output out;
    parser.feed(bytes, 1, out);
    EXPECT_TRUE(parser.failed()) << bytes.size();
    parser.feed(std::string(100, 'z'), 2, out);
    EXPECT_TRUE(parser.failed());
    EXPECT_GE(parser.ignored_bytes(), 100u);
  }
}

TEST(Http2StreamParser, UnknownFramesAndGoawayAreSkipped) {
  HpackEncoder hpack;
  const std::string bytes = h2_preface() + h2_frame(0xfa, 0xff, 1, std::string(70000, 'u')) +
                            h2_goaway(0, 0) + h2_headers(hpack, 1, kPost, true);
  const Result r = parse_in_pieces(Side::kClient, bytes, 999);
  EXPECT_FALSE(r.failed);
  EXPECT_EQ(r.messages.size(), 1u);
}

TEST(Http2StreamParser, HeaderBombIsCutButDecoded) {
  // One large field indexed once, then referenced many times: small on the wire, huge decoded.
  HpackEncoder hpack(65536);
  Fields fields = {{":status", "200"}};
  for (int i = 0; i < 2000; ++i) fields.push_back({"x-bomb", std::string(3000, 'b')});
  Http2StreamParser parser(Side::kServer);
  parser.on_peer_settings(65536);
  hpack.change_table_size(65536);
  Http2Output out;
  parser.feed(h2_settings_ack() + h2_headers(hpack, 1, fields, true), 1, out);
  ASSERT_FALSE(parser.failed()) << parser.error();
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_LT(out.messages[0].headers.size(), 100u);
  EXPECT_EQ(parser.dropped_header_fields(), 1u);
}

TEST(Http2StreamParser, RandomInputNeverCrashes) {
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    std::string bytes = round % 2 == 0 ? h2_preface() : "";
    const size_t n = rng() % 4000;
    for (size_t i = 0; i < n; ++i)
      bytes.push_back(static_cast<char>(rng() % (round % 3 == 0 ? 4 : 256)));
    Http2StreamParser parser(round % 2 == 0 ? Side::kClient : Side::kServer);
    Http2Output out;
    for (size_t at = 0; at < bytes.size(); at += 1 + rng() % 64) {
      parser.feed(std::string_view(bytes).substr(at, 1 + rng() % 64), at, out);
    }
    parser.take_open_streams();
  }
}

}  // namespace
}  // namespace llmtap::http
