#include "http/http_connection_parser.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "compress_for_tests.h"
#include "http2_frame_builder.h"

namespace llmtap::http {
namespace {

using test::Fields;
using test::h2_data;
using test::h2_headers;
using test::h2_preface;
using test::h2_rst_stream;
using test::h2_settings;
using test::h2_settings_ack;
using test::HpackEncoder;
using test::join;

constexpr bool kWrite = true;
constexpr bool kRead = false;

std::string post(std::string_view path, std::string_view body) {
  return "POST " + std::string(path) +
         " HTTP/1.1\r\nHost: api.openai.com\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}

std::string ok(std::string_view body, std::string_view extra_headers = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

std::string chunked(std::string_view body, size_t chunk) {
  std::string out;
  for (size_t at = 0; at < body.size(); at += chunk) {
    const std::string_view piece = body.substr(at, chunk);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    out += size;
    out += piece;
    out += "\r\n";
  }
  return out + "0\r\n\r\n";
}

size_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

TEST(HttpConnectionParser, SimpleExchangeWithTimesAndSizes) {
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  const std::string request = post("/v1/chat/completions", R"({"model":"gpt-4o"})");
  const std::string response = ok(R"({"id":"x"})", "Content-Type: application/json\r\n");
  parser.on_data(kWrite, request, 100, out);
  EXPECT_TRUE(out.empty());
  parser.on_data(kRead, response.substr(0, 20), 200, out);
  parser.on_data(kRead, response.substr(20), 300, out);
  ASSERT_EQ(out.size(), 1u);
  const HttpExchange& x = out[0];
  EXPECT_EQ(x.version, HttpVersion::kHttp1);
  EXPECT_TRUE(x.has_response);
  EXPECT_FALSE(x.response_incomplete);
  EXPECT_EQ(x.request.method, "POST");
  EXPECT_EQ(x.request.target, "/v1/chat/completions");
  EXPECT_EQ(x.request.body, R"({"model":"gpt-4o"})");
  EXPECT_EQ(x.response.status, 200);
  EXPECT_EQ(x.response.method, "POST");
  EXPECT_EQ(x.response.body, R"({"id":"x"})");
  EXPECT_EQ(x.request_first_ns, 100u);
  EXPECT_EQ(x.request_last_ns, 100u);
  EXPECT_EQ(x.response_first_ns, 200u);
  EXPECT_EQ(x.response_last_ns, 300u);
  EXPECT_EQ(x.request_wire_bytes, request.size());
  EXPECT_EQ(x.response_wire_bytes, response.size());
  EXPECT_EQ(parser.protocol(), HttpConnectionParser::Protocol::kHttp1);
  EXPECT_TRUE(parser.requests_are_writes());
  EXPECT_EQ(parser.stats().exchanges, 1u);
}

TEST(HttpConnectionParser, KeepAliveHundredExchangesInOrder) {
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  for (int i = 0; i < 100; ++i) {
    parser.on_data(kWrite, post("/r/" + std::to_string(i), "q" + std::to_string(i)), i * 10, out);
    parser.on_data(kRead, ok("a" + std::to_string(i)), i * 10 + 5, out);
  }
  ASSERT_EQ(out.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(out[i].request.target, "/r/" + std::to_string(i));
    EXPECT_EQ(out[i].response.body, "a" + std::to_string(i));
  }
  parser.on_close(2000, out);
  EXPECT_EQ(out.size(), 100u);
}

TEST(HttpConnectionParser, PipelinedRequestsPairInOrderAndHeadHasNoBody) {
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kWrite,
                 "HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n" + post("/b", "body-b") +
                     "GET /c HTTP/1.1\r\nHost: h\r\n\r\n",
                 1, out);
  // The HEAD response declares a length but has no body; pairing must not eat the next one.
  parser.on_data(
      kRead, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + ok("for-b") + ok("for-c"), 2, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].request.method, "HEAD");
  EXPECT_EQ(out[0].response.body, "");
  EXPECT_EQ(out[1].response.body, "for-b");
  EXPECT_EQ(out[2].request.target, "/c");
  EXPECT_EQ(out[2].response.body, "for-c");
}

TEST(HttpConnectionParser, GzipChunkedResponseIsDecoded) {
  std::string events;
  for (int i = 0; i < 200; ++i) events += "data: {\"n\":" + std::to_string(i) + "}\n\n";
  const std::string compressed = test::gzip_compress(events);
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kWrite, post("/v1/responses", "{}"), 1, out);
  parser.on_data(kRead,
                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n",
                 2, out);
  const std::string body = chunked(compressed, 100);
  for (size_t at = 0; at < body.size(); at += 333)
    parser.on_data(kRead, body.substr(at, 333), 3, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].response.body, events);
  EXPECT_EQ(out[0].response_content_encoding, "gzip");
  EXPECT_EQ(out[0].response_decode_error, "");
  EXPECT_EQ(out[0].response.body_bytes, compressed.size());
}

TEST(HttpConnectionParser, CorruptEncodingIsReportedAndCounted) {
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kWrite, post("/x", "{}"), 1, out);
  parser.on_data(kRead, ok("not gzip at all", "Content-Encoding: gzip\r\n"), 2, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].response_decode_error, "");
  EXPECT_EQ(parser.stats().decode_errors, 1u);
}

TEST(HttpConnectionParser, ServerSideCaptureReadsAreRequests) {
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kRead, post("/v1/messages", "hi"), 1, out);
  parser.on_data(kWrite, ok("hello"), 2, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(parser.requests_are_writes());
  EXPECT_EQ(out[0].request.target, "/v1/messages");
  EXPECT_EQ(out[0].response.body, "hello");
}

TEST(HttpConnectionParser, ResponseSeenFirstDecidesTheDirectionToo) {
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kRead, ok("orphan"), 1, out);  // capture began mid-connection
  parser.on_data(kWrite, post("/next", ""), 2, out);
  parser.on_data(kRead, ok("answer"), 3, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].response.body, "answer");
  EXPECT_EQ(parser.stats().orphan_responses, 1u);
}

TEST(HttpConnectionParser, FilterDropsExchangesAndKeepsNoBodies) {
  HttpConnectionOptions options;
  options.request_filter = [](const HttpMessage& head) { return head.target.starts_with("/v1/"); };
  HttpConnectionParser parser(std::move(options));
  std::vector<HttpExchange> out;
  parser.on_data(kWrite, post("/telemetry", std::string(1000, 't')), 1, out);
  parser.on_data(kRead, ok(std::string(5000, 'r')), 2, out);
  parser.on_data(kWrite, post("/v1/chat/completions", "{}"), 3, out);
  parser.on_data(kRead, ok("kept"), 4, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].response.body, "kept");
  EXPECT_EQ(parser.stats().filtered_requests, 1u);
  EXPECT_EQ(parser.stats().exchanges, 1u);
}

TEST(HttpConnectionParser, CloseEmitsUnansweredAndCutExchanges) {
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kWrite, post("/a", "1") + post("/b", "2"), 1, out);
  parser.on_data(kRead, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", 2, out);
  EXPECT_TRUE(out.empty());
  parser.on_close(3, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].has_response);
  EXPECT_TRUE(out[0].response_incomplete);
  EXPECT_EQ(out[0].response.body, "partial");
  EXPECT_FALSE(out[1].has_response);
  EXPECT_EQ(out[1].request.target, "/b");
  EXPECT_EQ(parser.stats().unanswered_requests, 1u);
  parser.on_data(kRead, ok("late"), 4, out);
  EXPECT_EQ(out.size(), 2u);
}

TEST(HttpConnectionParser, ReadUntilCloseResponseCompletesAtTheClose) {
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kWrite, "GET /stream HTTP/1.1\r\nHost: h\r\n\r\n", 1, out);
  parser.on_data(kRead, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\ndata: 1\n\n", 2, out);
  parser.on_data(kRead, "data: 2\n\n", 3, out);
  parser.on_close(4, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].response_incomplete);
  EXPECT_EQ(out[0].response.body, "data: 1\n\ndata: 2\n\n");
  EXPECT_EQ(out[0].response_last_ns, 3u);
}

TEST(HttpConnectionParser, RequestCutByTheCloseIsEmittedIncomplete) {
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kWrite, "POST /upload HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 1, out);
  parser.on_close(2, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].has_response);
  EXPECT_TRUE(out[0].response_incomplete);
  EXPECT_EQ(out[0].request.body, "abc");
}

TEST(HttpConnectionParser, ErrorStopsTheConnectionButKeepsWholeRequests) {
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kWrite, post("/a", "1"), 1, out);
  parser.on_data(kRead, "HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n", 2, out);
  EXPECT_TRUE(parser.stopped());
  EXPECT_EQ(parser.stats().parse_errors, 1u);
  parser.on_data(kWrite, post("/b", "2"), 3, out);
  parser.on_data(kRead, ok("x"), 4, out);
  EXPECT_TRUE(out.empty());
  parser.on_close(5, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].request.target, "/a");
  EXPECT_FALSE(out[0].has_response);
  EXPECT_GT(parser.stats().ignored_bytes, 0u);
}

TEST(HttpConnectionParser, NonHttpConnectionIsIgnored) {
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kWrite, std::string("\x16\x03\x01\x02\x00garbage", 12), 1, out);
  parser.on_data(kRead, ok("looks like http but too late"), 2, out);
  parser.on_close(3, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(parser.protocol(), HttpConnectionParser::Protocol::kNotHttp);
  EXPECT_EQ(parser.stats().non_http_connections, 1u);
  EXPECT_EQ(parser.stats().ignored_bytes, 12u + ok("looks like http but too late").size());
}

TEST(HttpConnectionParser, SplitRequestLineWaitsForMoreBytes) {
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  const std::string request = post("/v1/x", "{}");
  for (char c : request) parser.on_data(kWrite, std::string(1, c), 1, out);
  parser.on_data(kRead, ok("y"), 2, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].request.target, "/v1/x");
}

TEST(HttpConnectionParser, UpgradeBecomesATunnel) {
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kWrite, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 1,
                 out);
  parser.on_data(
      kRead, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello", 2, out);
  parser.on_data(kWrite, "\x81\x85masked", 3, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].response.status, 101);
  EXPECT_FALSE(parser.stopped());
  EXPECT_EQ(parser.stats().ignored_bytes, 7u + 8u);
}

TEST(HttpConnectionParser, FiftyMegabyteBodyIsCountedButOnlyTheLimitKept) {
  HttpConnectionOptions options;
  options.max_body_kept = 1 << 20;
  HttpConnectionParser parser(std::move(options));
  std::vector<HttpExchange> out;
  const size_t total = 50u << 20;
  parser.on_data(kWrite, "GET /big HTTP/1.1\r\n\r\n", 1, out);
  parser.on_data(kRead, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(total) + "\r\n\r\n",
                 2, out);
  const std::string piece(64 * 1024, 'z');
  const size_t heap_before = heap_in_use();
  for (size_t sent = 0; sent < total; sent += piece.size()) parser.on_data(kRead, piece, 3, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].response.body_bytes, total);
  EXPECT_EQ(out[0].response.body.size(), 1u << 20);
  EXPECT_TRUE(out[0].response.body_truncated);
  EXPECT_LT(heap_in_use(), heap_before + (4u << 20));
}

// ---- HTTP/2 ----

const Fields kPost = {{":method", "POST"},
                      {":scheme", "https"},
                      {":authority", "api.anthropic.com"},
                      {":path", "/v1/messages"}};

struct H2Peers {
  HpackEncoder client;
  HpackEncoder server;
};

TEST(HttpConnectionParser, Http2ExchangesPairByStream) {
  H2Peers peers;
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kWrite,
                 join({h2_preface(), h2_settings(), h2_headers(peers.client, 1, kPost, false),
                       h2_data(1, "one", true), h2_headers(peers.client, 3, kPost, false),
                       h2_data(3, "three", true)}),
                 10, out);
  parser.on_data(kRead, h2_settings() + h2_settings_ack(), 11, out);
  parser.on_data(kWrite, h2_settings_ack(), 12, out);
  const std::string gz = test::gzip_compress("answer three");
  parser.on_data(
      kRead,
      join({h2_headers(peers.server, 3, {{":status", "200"}, {"content-encoding", "gzip"}}, false),
            h2_headers(peers.server, 1, {{":status", "200"}}, false), h2_data(3, gz, true),
            h2_data(1, "answer one", true)}),
      20, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(parser.protocol(), HttpConnectionParser::Protocol::kHttp2);
  EXPECT_EQ(out[0].version, HttpVersion::kHttp2);
  EXPECT_EQ(out[0].stream_id, 3u);
  EXPECT_EQ(out[0].request.body, "three");
  EXPECT_EQ(out[0].response.body, "answer three");
  EXPECT_EQ(out[0].response.method, "POST");
  EXPECT_EQ(header(out[0].request, "host"), "api.anthropic.com");
  EXPECT_EQ(out[1].stream_id, 1u);
  EXPECT_EQ(out[1].response.body, "answer one");
  EXPECT_EQ(out[1].request_first_ns, 10u);
  EXPECT_EQ(out[1].response_last_ns, 20u);
}

TEST(HttpConnectionParser, Http2ServerThatSpeaksFirst) {
  H2Peers peers;
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kWrite, h2_settings({{3, 100}}), 1, out);  // a server capture: its SETTINGS
  EXPECT_EQ(parser.protocol(), HttpConnectionParser::Protocol::kUnknown);
  parser.on_data(kRead, h2_preface() + h2_settings() + h2_headers(peers.client, 1, kPost, true), 2,
                 out);
  parser.on_data(kWrite, h2_headers(peers.server, 1, {{":status", "204"}}, true), 3, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(parser.requests_are_writes());
  EXPECT_EQ(out[0].response.status, 204);
}

TEST(HttpConnectionParser, Http2ResetStreamEndsTheExchangeIncomplete) {
  H2Peers peers;
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kWrite,
                 h2_preface() + h2_headers(peers.client, 1, kPost, false) + h2_data(1, "q", true),
                 1, out);
  parser.on_data(
      kRead,
      h2_headers(peers.server, 1, {{":status", "200"}}, false) + h2_data(1, "data: 1\n\n", false),
      2, out);
  parser.on_data(kWrite, h2_rst_stream(1, 8), 3, out);  // the client cancels
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].has_response);
  EXPECT_TRUE(out[0].response_incomplete);
  EXPECT_EQ(out[0].response.body, "data: 1\n\n");
  // Late DATA for the reset stream is not an exchange.
  parser.on_data(kRead, h2_data(1, "late", true), 4, out);
  parser.on_close(5, out);
  EXPECT_EQ(out.size(), 1u);
}

TEST(HttpConnectionParser, Http2CloseEmitsOpenStreams) {
  H2Peers peers;
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  parser.on_data(kWrite,
                 join({h2_preface(), h2_headers(peers.client, 1, kPost, true),
                       h2_headers(peers.client, 3, kPost, true)}),
                 1, out);
  parser.on_data(
      kRead, h2_headers(peers.server, 1, {{":status", "200"}}, false) + h2_data(1, "part", false),
      2, out);
  parser.on_close(3, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].stream_id, 1u);
  EXPECT_TRUE(out[0].response_incomplete);
  EXPECT_EQ(out[0].response.body, "part");
  EXPECT_EQ(out[1].stream_id, 3u);
  EXPECT_FALSE(out[1].has_response);
}

TEST(HttpConnectionParser, Http2CloseKeepsAPartialResponseWhenTheRequestIsCutToo) {
  H2Peers peers;
  HttpConnectionParser parser;
  std::vector<HttpExchange> out;
  // The request body is still streaming (no END_STREAM) when the response starts.
  parser.on_data(kWrite,
                 join({h2_preface(), h2_headers(peers.client, 1, kPost, false),
                       h2_data(1, "{\"model\":", false)}),
                 1, out);
  parser.on_data(
      kRead, h2_headers(peers.server, 1, {{":status", "200"}}, false) + h2_data(1, "part", false),
      2, out);
  parser.on_close(3, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].has_response);
  EXPECT_TRUE(out[0].response_incomplete);
  EXPECT_EQ(out[0].response.status, 200);
  EXPECT_EQ(out[0].response.body, "part");
}

TEST(HttpConnectionParser, Http2ConcurrentStreamsShareOneBodyBudget) {
  H2Peers peers;
  HttpConnectionOptions options;
  options.max_body_kept = 1000;
  options.max_connection_body_kept = 2500;
  HttpConnectionParser parser(options);
  std::vector<HttpExchange> out;
  // Five streams open at once, each sending 1000 body bytes before any ends. (Built in
  // sequence: the HPACK encoder's state depends on the order.)
  std::string frames = h2_preface();
  for (uint32_t id = 1; id <= 9; id += 2) frames += h2_headers(peers.client, id, kPost, false);
  for (uint32_t id = 1; id <= 9; id += 2) frames += h2_data(id, std::string(1000, 'b'), false);
  for (uint32_t id = 1; id <= 9; id += 2) frames += h2_data(id, "", true);
  parser.on_data(kWrite, frames, 1, out);
  parser.on_close(2, out);
  ASSERT_EQ(out.size(), 5u);
  size_t kept = 0;
  for (const auto& e : out) {
    EXPECT_EQ(e.request.body_bytes, 1000u);
    kept += e.request.body.size();
  }
  EXPECT_EQ(kept, 2500u);
  EXPECT_EQ(parser.stats().bodies_over_budget, 3u);  // the third stream was cut, then two more
}

TEST(HttpConnectionParser, PipelinedRequestsShareOneBodyBudget) {
  HttpConnectionOptions options;
  options.max_connection_body_kept = 250;
  HttpConnectionParser parser(options);
  std::vector<HttpExchange> out;
  std::string requests;
  for (int i = 0; i < 4; ++i) {
    requests += "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n" +
                std::string(100, 'x');
  }
  parser.on_data(kWrite, requests, 1, out);  // all four wait for their responses
  parser.on_close(2, out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].request.body.size(), 100u);
  EXPECT_EQ(out[1].request.body.size(), 100u);
  EXPECT_TRUE(out[2].request.body.empty());
  EXPECT_TRUE(out[2].request.body_truncated);
  EXPECT_EQ(out[2].request.body_bytes, 100u);
  EXPECT_EQ(parser.stats().bodies_over_budget, 2u);
}

TEST(HttpConnectionParser, Http2FilterDropsStreams) {
  H2Peers peers;
  HttpConnectionOptions options;
  options.request_filter = [](const HttpMessage& head) { return head.target != "/metrics"; };
  HttpConnectionParser parser(std::move(options));
  std::vector<HttpExchange> out;
  parser.on_data(
      kWrite,
      join({h2_preface(),
            h2_headers(peers.client, 1, {{":method", "GET"}, {":path", "/metrics"}}, true),
            h2_headers(peers.client, 3, kPost, true)}),
      1, out);
  parser.on_data(
      kRead,
      join({h2_headers(peers.server, 1, {{":status", "200"}}, false), h2_data(1, "m", true),
            h2_headers(peers.server, 3, {{":status", "200"}}, false), h2_data(3, "k", true)}),
      2, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].stream_id, 3u);
  EXPECT_EQ(parser.stats().filtered_requests, 1u);
}

TEST(HttpConnectionParser, Http2SplitAtEveryByteGivesTheSameExchanges) {
  H2Peers peers;
  const std::string client = h2_preface() + h2_settings({{1, 8192}}) +
                             h2_headers(peers.client, 1, kPost, false, 7, 2) +
                             h2_data(1, "body", true, 3);
  const std::string server = h2_settings() + h2_settings_ack() +
                             h2_headers(peers.server, 1, {{":status", "200"}}, false) +
                             h2_data(1, "resp", true);
  for (size_t cut = 1; cut < client.size(); ++cut) {
    HttpConnectionParser parser;
    std::vector<HttpExchange> out;
    parser.on_data(kWrite, client.substr(0, cut), 1, out);
    parser.on_data(kWrite, client.substr(cut), 1, out);
    for (size_t at = 0; at < server.size(); at += cut)
      parser.on_data(kRead, server.substr(at, cut), 2, out);
    ASSERT_EQ(out.size(), 1u) << cut;
    EXPECT_EQ(out[0].request.body, "body");
    EXPECT_EQ(out[0].response.body, "resp");
  }
}

// ---- where the input is split never changes the output ----

struct Piece {
  bool is_write = false;
  std::string bytes;
};

struct Replayed {
  std::vector<HttpExchange> exchanges;
  HttpConnectionStats stats;
};

// Feeds each piece in chunks of `chunk` bytes, at the piece's index as capture time, then
// closes, like http_connection_parser_fuzz.
Replayed replay(const std::vector<Piece>& pieces, size_t chunk,
                const HttpConnectionOptions& options = {}) {
  HttpConnectionParser parser(options);
  Replayed result;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string_view bytes = pieces[i].bytes;
    for (size_t at = 0; at < bytes.size(); at += chunk) {
      parser.on_data(pieces[i].is_write, bytes.substr(at, chunk), i, result.exchanges);
    }
  }
  parser.on_close(pieces.size(), result.exchanges);
  result.stats = parser.stats();
  return result;
}

// Every chunk size gives what the whole pieces give; returns the latter.
Replayed expect_split_invariant(const std::vector<Piece>& pieces,
                                const HttpConnectionOptions& options = {}) {
  const Replayed whole = replay(pieces, std::string::npos, options);
  size_t longest = 0;
  for (const Piece& piece : pieces) longest = std::max(longest, piece.bytes.size());
  for (size_t chunk = 1; chunk < longest; ++chunk) {
    const Replayed split = replay(pieces, chunk, options);
    EXPECT_TRUE(split.stats == whole.stats) << "chunk " << chunk;
    EXPECT_EQ(split.exchanges.size(), whole.exchanges.size()) << "chunk " << chunk;
    for (size_t i = 0; i < std::min(whole.exchanges.size(), split.exchanges.size()); ++i) {
      const HttpExchange& a = whole.exchanges[i];
      const HttpExchange& b = split.exchanges[i];
      SCOPED_TRACE("chunk " + std::to_string(chunk) + ", exchange " + std::to_string(i));
      EXPECT_EQ(a.version, b.version);
      EXPECT_EQ(a.stream_id, b.stream_id);
      EXPECT_TRUE(a.request == b.request);
      EXPECT_TRUE(a.response == b.response);
      EXPECT_EQ(a.has_response, b.has_response);
      EXPECT_EQ(a.response_incomplete, b.response_incomplete);
      EXPECT_EQ(a.request_first_ns, b.request_first_ns);
      EXPECT_EQ(a.request_last_ns, b.request_last_ns);
      EXPECT_EQ(a.response_first_ns, b.response_first_ns);
      EXPECT_EQ(a.response_last_ns, b.response_last_ns);
      EXPECT_EQ(a.request_wire_bytes, b.request_wire_bytes);
      EXPECT_EQ(a.response_wire_bytes, b.response_wire_bytes);
      EXPECT_EQ(a.request_content_encoding, b.request_content_encoding);
      EXPECT_EQ(a.response_content_encoding, b.response_content_encoding);
      EXPECT_EQ(a.request_decode_error, b.request_decode_error);
      EXPECT_EQ(a.response_decode_error, b.response_decode_error);
    }
  }
  return whole;
}

// Found by http_connection_parser_fuzz (tests/data/fuzz/http_connection_parser/
// h2_head_after_stream_end): one server read ends stream 1 and then starts a new header
// block on stream 1. Read whole, the head filter used to find the stream's slot still there
// (its end was handed over only after the read) and kept the body; read in chunks, it found
// the slot gone and skipped it.
TEST(HttpConnectionParser, FuzzRegressionHttp2HeadAfterStreamEndIsSplitInvariant) {
  const std::vector<Piece> pieces = {
      {kRead, std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9)},
      {kWrite, std::string("\x50\x52\x49\x20\x2a\x20\x48\x54\x54\x50\x2f\x32\x2e\x30\x0d\x0a"
                           "\x0d\x0a\x53\x4d\x0d\x0a\x0d\x0a\x00\x00\x2b\x01\x04\x00\x00\x00"
                           "\x01\x83\x87\x41\x8a\x1d\x66\x5c\xf5\x96\xa1\x99\x72\x1e\x9f\x04"
                           "\x8e\x63\xb8\x58\x24\xe3\x4b\x04\x3d\x30\xd0\x54\x98\xf5\x23\x5f"
                           "\x8b\x1d\x75\xd0\x62\x0d\x26\x3d\x4c\x74\x41\xea\x00\x00\x02\x00"
                           "\x01\x00\x00\x00\x01\x7b\x7d",
                           87)},
      {kRead, std::string("\x00\x00\x00\x04\x01\x00\x00\x00\x00\x00\x00\x06\x01\x04\x00\x00"
                          "\x00\x01\x88\x5a\x83\x9b\xd9\xab\x00\x00\x43\x00\x01\x00\x00\x00"
                          "\x01\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x4b\x49\x3b\x2c\x49"
                          "\xb4\x52\x2e\xa8\x56\x4a\xce\xc8\xcf\x4c\x4e\x2d\x56\xb2\x8a\xae"
                          "\x56\x4a\x49\xcd\x29\x49\x54\xb2\x02\x0a\xe6\xe7\x95\xa4\xe6\x95"
                          "\x28\x59\x29\x65\x64\x2a\xd5\xa7\xd6\xc6\xd6\x72\x7a\x00\x01\x71"
                          "\xd4\x07\xa6\x35\x00\x00\x00\x01\x04\x00\x00\x00\x01\x83\x87",
                          111)},
      {kWrite, std::string("\x00\x00\x00\x04\x01\x00\x00\x00\x00\x00\x00\x06\x01\x04\x00\x00"
                           "\x00\x01\x88\x5a\x83\x00\xd9\x9b\x00\xab\x43\x00",
                           28)},
  };
  // The fuzz target's options.
  HttpConnectionOptions options;
  options.max_body_kept = 256;
  options.max_decoded_body = 1024;
  options.request_filter = [](const HttpMessage& head) { return !head.target.starts_with("/x"); };
  const Replayed whole = expect_split_invariant(pieces, options);
  ASSERT_EQ(whole.exchanges.size(), 2u);
  // The second header block on stream 1 came after the stream's exchange was emitted: no
  // request was waiting for it, so its body was not kept.
  EXPECT_TRUE(whole.exchanges[1].response.body_skipped);
}

TEST(HttpConnectionParser, Http2LateHeadOnAnEndedStreamKeepsNoBodyWhereverSplit) {
  H2Peers peers;
  const std::vector<Piece> pieces = {
      {kWrite, join({h2_preface(), h2_headers(peers.client, 1, kPost, true)})},
      {kRead,
       join({h2_headers(peers.server, 1, {{":status", "200"}}, false), h2_data(1, "first", true),
             h2_headers(peers.server, 1, {{":status", "200"}}, false), h2_data(1, "late", false)})},
      {kWrite, h2_headers(peers.client, 1, kPost, true)},  // stream 1 again
  };
  const Replayed whole = expect_split_invariant(pieces);
  ASSERT_EQ(whole.exchanges.size(), 2u);
  EXPECT_EQ(whole.exchanges[0].response.body, "first");
  EXPECT_TRUE(whole.exchanges[1].response.body_skipped);
  EXPECT_EQ(whole.exchanges[1].response.body, "");
}

TEST(HttpConnectionParser, Http2ResetAndEndOfAnotherStreamKeepTheirOrderWhereverSplit) {
  H2Peers peers;
  const std::vector<Piece> pieces = {
      {kWrite, join({h2_preface(), h2_headers(peers.client, 1, kPost, false),
                     h2_headers(peers.client, 3, kPost, false)})},
      // Stream 1 is answered before its request ends.
      {kRead, join({h2_headers(peers.server, 1, {{":status", "200"}}, true),
                    h2_headers(peers.server, 3, {{":status", "200"}}, false)})},
      {kWrite, h2_rst_stream(3, 8) + h2_data(1, "q", true)},
  };
  const Replayed whole = expect_split_invariant(pieces);
  ASSERT_EQ(whole.exchanges.size(), 2u);
  EXPECT_EQ(whole.exchanges[0].stream_id, 3u);  // the reset came first
  EXPECT_TRUE(whole.exchanges[0].response_incomplete);
  EXPECT_EQ(whole.exchanges[1].stream_id, 1u);
  EXPECT_FALSE(whole.exchanges[1].response_incomplete);
}

TEST(HttpConnectionParser, Http2ResetThenNewHeadOnTheSameStreamWhereverSplit) {
  H2Peers peers;
  const std::vector<Piece> pieces = {
      {kWrite, join({h2_preface(), h2_headers(peers.client, 1, kPost, false),
                     h2_data(1, "cancelled", false), h2_rst_stream(1, 8),
                     h2_headers(peers.client, 1, kPost, false), h2_data(1, "again", true)})},
  };
  const Replayed whole = expect_split_invariant(pieces);
  ASSERT_EQ(whole.exchanges.size(), 2u);
  EXPECT_EQ(whole.exchanges[0].request.body, "cancelled");
  EXPECT_TRUE(whole.exchanges[0].response_incomplete);
  EXPECT_EQ(whole.exchanges[1].request.body, "again");
}

TEST(HttpConnectionParser, PipelinedBodyBudgetWhereverSplit) {
  HttpConnectionOptions options;
  options.max_connection_body_kept = 150;
  const std::string a = post("/a", std::string(100, 'a'));
  const std::vector<Piece> pieces = {
      {kWrite, a.substr(0, a.size() - 50)},
      {kRead, ok("")},  // answered before the request ends
      {kWrite, a.substr(a.size() - 50) + post("/b", std::string(100, 'b'))},
  };
  const Replayed whole = expect_split_invariant(pieces, options);
  ASSERT_EQ(whole.exchanges.size(), 2u);
  // /a was emitted when it ended, so /b waits alone and keeps its body.
  EXPECT_EQ(whole.exchanges[1].request.body, std::string(100, 'b'));
  EXPECT_EQ(whole.stats.bodies_over_budget, 0u);
}

// ---- robustness ----

TEST(HttpConnectionParser, RandomGarbageNeverCrashesAndStaysBounded) {
  std::mt19937 rng(7);
  const std::vector<std::string> starts = {"", "GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n",
                                           h2_preface(), h2_settings()};
  const size_t heap_before = heap_in_use();
  std::vector<HttpConnectionParser> parsers;
  for (int round = 0; round < 200; ++round) {
    HttpConnectionParser& parser = parsers.emplace_back();
    std::vector<HttpExchange> out;
    parser.on_data(rng() % 2 == 0, starts[round % starts.size()], 0, out);
    for (int chunk = 0; chunk < 20; ++chunk) {
      std::string bytes(rng() % 2000, '\0');
      for (char& c : bytes)
        c = static_cast<char>(rng() % (chunk % 2 == 0 ? 256 : 8) + (chunk % 2 ? 'A' : 0));
      parser.on_data(rng() % 2 == 0, bytes, chunk, out);
    }
    if (round % 2 == 0) parser.on_close(100, out);
  }
  // 200 live connections after 8 MB of garbage: far below what one kept body may take.
  EXPECT_LT(heap_in_use(), heap_before + (4u << 20));
}

TEST(HttpConnectionParser, InstancesAreIndependent) {
  HttpConnectionParser broken;
  HttpConnectionParser healthy;
  std::vector<HttpExchange> out;
  broken.on_data(kWrite, "GET / HTTP/1.1\r\nbad header\r\n\r\n", 1, out);
  healthy.on_data(kWrite, post("/ok", ""), 1, out);
  healthy.on_data(kRead, ok("fine"), 2, out);
  EXPECT_TRUE(broken.stopped());
  EXPECT_FALSE(healthy.stopped());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].response.body, "fine");
}

TEST(HttpConnectionParser, IdleConnectionIsSmall) {
  const size_t before = heap_in_use();
  std::vector<HttpConnectionParser> parsers(1000);
  std::vector<HttpExchange> out;
  for (auto& parser : parsers) {
    parser.on_data(kWrite, post("/v1/x", "{}"), 1, out);
    parser.on_data(kRead, ok("{}"), 2, out);
    out.clear();
  }
  const size_t per_connection = (heap_in_use() - before) / parsers.size();
  RecordProperty("bytes_per_idle_http1_connection", static_cast<int>(per_connection));
  std::printf("sizeof(HttpConnectionParser)=%zu, heap per idle HTTP/1 connection=%zu\n",
              sizeof(HttpConnectionParser), per_connection);
  EXPECT_LT(per_connection, 8192u);
}

TEST(HttpConnectionParser, IdleHttp2ConnectionIsSmall) {
  const Fields request = {{":method", "POST"},
                          {":path", "/v1/messages"},
                          {":authority", "api.anthropic.com"},
                          {"content-type", "application/json"}};
  const size_t before = heap_in_use();
  std::vector<HttpConnectionParser> parsers(200);
  std::vector<HttpExchange> out;
  for (auto& parser : parsers) {
    HpackEncoder client;
    HpackEncoder server;
    parser.on_data(
        kWrite, join({h2_preface(), h2_settings(), h2_headers(client, 1, request, true)}), 1, out);
    parser.on_data(
        kRead,
        join({h2_settings(), h2_settings_ack(), h2_headers(server, 1, {{":status", "200"}}, true)}),
        2, out);
    out.clear();
  }
  const size_t per_connection = (heap_in_use() - before) / parsers.size();
  std::printf("heap per idle HTTP/2 connection=%zu\n", per_connection);
  EXPECT_LT(per_connection, 16384u);
}

}  // namespace
}  // namespace llmtap::http
