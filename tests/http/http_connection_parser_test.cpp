#include "http/http_connection_parser.h"

#include <gtest/gtest.h>
#include <malloc.h>

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
  const Fields request = {{":method", "POST"}, {":path", "/v1/messages"},
                          {":authority", "api.anthropic.com"}, {"content-type", "application/json"}};
  const size_t before = heap_in_use();
  std::vector<HttpConnectionParser> parsers(200);
  std::vector<HttpExchange> out;
  for (auto& parser : parsers) {
    HpackEncoder client;
    HpackEncoder server;
    parser.on_data(kWrite, join({h2_preface(), h2_settings(), h2_headers(client, 1, request, true)}),
                   1, out);
    parser.on_data(kRead, join({h2_settings(), h2_settings_ack(),
                                h2_headers(server, 1, {{":status", "200"}}, true)}),
                   2, out);
    out.clear();
  }
  const size_t per_connection = (heap_in_use() - before) / parsers.size();
  std::printf("heap per idle HTTP/2 connection=%zu\n", per_connection);
  EXPECT_LT(per_connection, 16384u);
}

}  // namespace
}  // namespace llmtap::http
