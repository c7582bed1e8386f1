#include "http/http1_stream_parser.h"

#include <gtest/gtest.h>

#include <malloc.h>

#include <random>
#include <string>
#include <vector>

namespace llmtap::http {
namespace {

using Role = Http1StreamParser::Role;
using State = Http1StreamParser::State;

// Everything observable about a parse, so that different ways of feeding can be compared.
struct Outcome {
  std::vector<HttpMessage> messages;
  State state = State::kOk;
  std::string error;
  uint64_t errors = 0;
  uint64_t ignored_bytes = 0;
  bool operator==(const Outcome&) const = default;
};

void collect(std::vector<HttpMessage>& into, std::vector<HttpMessage> more) {
  for (HttpMessage& m : more) into.push_back(std::move(m));
}

Outcome outcome_of(const Http1StreamParser& parser, std::vector<HttpMessage> messages) {
  return {std::move(messages), parser.state(), std::string(parser.error()), parser.errors(),
          parser.ignored_bytes()};
}

// Feeds `input` cut at the given offsets (ascending), then calls finish().
Outcome parse_pieces(Role role, std::string_view input, const std::vector<size_t>& cuts,
                     const std::vector<std::string>& methods = {},
                     Http1StreamParser::Limits limits = {}) {
  Http1StreamParser parser(role, limits);
  for (const std::string& m : methods) parser.expect_response_to(m);
  std::vector<HttpMessage> messages;
  size_t start = 0;
  for (size_t cut : cuts) {
    collect(messages, parser.feed(input.substr(start, cut - start)));
    start = cut;
  }
  collect(messages, parser.feed(input.substr(start)));
  if (std::optional<HttpMessage> last = parser.finish()) messages.push_back(std::move(*last));
  return outcome_of(parser, std::move(messages));
}

Outcome parse_whole(Role role, std::string_view input, const std::vector<std::string>& methods = {},
                    Http1StreamParser::Limits limits = {}) {
  return parse_pieces(role, input, {}, methods, limits);
}

// Heap bytes in use (glibc): lets a test prove that a declared size never turns into a
// reservation, whatever container the parser would have used for it.
size_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

Outcome parse_byte_by_byte(Role role, std::string_view input,
                           const std::vector<std::string>& methods = {}) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < input.size(); ++i) cuts.push_back(i);
  return parse_pieces(role, input, cuts, methods);
}

TEST(Http1StreamParser, SimpleRequestWithContentLength) {
  Http1StreamParser parser(Role::kRequest);
  const std::string head =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: api.example.com\r\n"
      "content-length: 13\r\nContent-Type: application/json\r\n\r\n";
  std::vector<HttpMessage> messages = parser.feed(head + R"({"model":"x"})");

  ASSERT_EQ(messages.size(), 1u);
  const HttpMessage& m = messages[0];
  EXPECT_TRUE(m.is_request);
  EXPECT_EQ(m.method, "POST");
  EXPECT_EQ(m.target, "/v1/chat/completions");
  EXPECT_EQ(m.version_minor, 1);
  ASSERT_EQ(m.headers.size(), 3u);
  EXPECT_EQ(m.headers[1].name, "content-length");  // case as received
  EXPECT_EQ(header(m, "Content-Length"), "13");
  EXPECT_EQ(header(m, "HOST"), "api.example.com");
  EXPECT_EQ(header(m, "missing"), std::nullopt);
  EXPECT_EQ(m.body, R"({"model":"x"})");
  EXPECT_EQ(m.body_bytes, 13u);
  EXPECT_FALSE(m.body_truncated);
  EXPECT_EQ(m.header_bytes, head.size());
  EXPECT_EQ(parser.state(), State::kOk);
  EXPECT_EQ(parser.messages(), 1u);
  EXPECT_EQ(parser.errors(), 0u);
}

TEST(Http1StreamParser, RequestWithoutLengthHasNoBody) {
  Http1StreamParser parser(Role::kRequest);
  std::vector<HttpMessage> messages = parser.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].body_bytes, 0u);
  EXPECT_EQ(parser.state(), State::kOk);
}

TEST(Http1StreamParser, ChunkedResponseWithExtensionsAndTrailers) {
  Http1StreamParser parser(Role::kResponse);
  std::vector<HttpMessage> messages = parser.feed(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n"
      "5;name=value\r\nhello\r\n"
      "7 ; ext\r\n, world\r\n"
      "0\r\nX-Checksum: abc\r\nX-Other:  1 \r\n\r\n");

  ASSERT_EQ(messages.size(), 1u);
  const HttpMessage& m = messages[0];
  EXPECT_FALSE(m.is_request);
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.reason, "OK");
  EXPECT_EQ(m.body, "hello, world");
  EXPECT_EQ(m.body_bytes, 12u);
  ASSERT_EQ(m.trailers.size(), 2u);
  EXPECT_EQ(m.trailers[0], (HttpHeader{"X-Checksum", "abc"}));
  EXPECT_EQ(m.trailers[1], (HttpHeader{"X-Other", "1"}));
  EXPECT_EQ(parser.state(), State::kOk);
}

TEST(Http1StreamParser, ChunkedWinsOverContentLength) {
  Outcome o = parse_whole(Role::kResponse,
                          "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: gzip, "
                          "Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(o.messages[0].body, "abc");
  EXPECT_EQ(o.state, State::kOk);
}

TEST(Http1StreamParser, PipelinedRequestsInOneFeed) {
  Http1StreamParser parser(Role::kRequest);
  std::vector<HttpMessage> messages = parser.feed(
      "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
      "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
      "GET /d HTTP/1.1\r\n");  // the start of a fourth
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].target, "/a");
  EXPECT_EQ(messages[1].target, "/b");
  EXPECT_EQ(messages[1].body, "xyz");
  EXPECT_EQ(messages[2].target, "/c");
  EXPECT_EQ(messages[2].body, "hi");
  EXPECT_EQ(parser.state(), State::kNeedMore);
  messages = parser.feed("\r\n");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].target, "/d");
  EXPECT_EQ(parser.messages(), 4u);
}

// Streams that exercise every phase; each must parse the same however it is cut.
struct SplitCase {
  Role role;
  std::string input;
  std::vector<std::string> methods;
};

std::vector<SplitCase> split_cases() {
  return {
      {Role::kRequest,
       "\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n"
       "POST /b HTTP/1.1\nContent-Length: 5\n\nhello"
       "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n",
       {}},
      {Role::kResponse,
       "HTTP/1.1 100 Continue\r\n\r\n"
       "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"
       "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"  // HEAD: no body follows
       "HTTP/1.1 204 No Content\r\n\r\n"
       "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"
       "HTTP/1.0 200\r\nServer: x\r\n\r\nuntil close",
       {"POST", "HEAD", "DELETE", "GET", "GET"}},
      {Role::kRequest,  // an error part-way through: the ignored count must not depend on cuts
       "GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nBad Header: x\r\n\r\nGET / HTTP/1.1\r\n\r\n",
       {}},
  };
}

TEST(Http1StreamParser, EverySplitPointGivesTheSameResult) {
  for (const SplitCase& c : split_cases()) {
    const Outcome whole = parse_whole(c.role, c.input, c.methods);
    ASSERT_FALSE(whole.messages.empty());
    EXPECT_EQ(parse_byte_by_byte(c.role, c.input, c.methods), whole);
    for (size_t i = 0; i <= c.input.size(); ++i) {
      ASSERT_EQ(parse_pieces(c.role, c.input, {i}, c.methods), whole) << "cut at " << i;
    }
  }
}

TEST(Http1StreamParser, EveryPairOfSplitPointsGivesTheSameResult) {
  const SplitCase c = split_cases()[0];
  const Outcome whole = parse_whole(c.role, c.input);
  for (size_t i = 0; i <= c.input.size(); ++i) {
    for (size_t j = i; j <= c.input.size(); ++j) {
      ASSERT_EQ(parse_pieces(c.role, c.input, {i, j}), whole) << "cuts at " << i << "," << j;
    }
  }
}

TEST(Http1StreamParser, HeadResponseHasNoBody) {
  Http1StreamParser parser(Role::kResponse);
  parser.expect_response_to("HEAD");
  parser.expect_response_to("GET");
  std::vector<HttpMessage> messages = parser.feed(
      "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].method, "HEAD");
  EXPECT_EQ(messages[0].body_bytes, 0u);
  EXPECT_EQ(messages[1].method, "GET");
  EXPECT_EQ(messages[1].body, "ok");
  EXPECT_EQ(parser.state(), State::kOk);
}

TEST(Http1StreamParser, NoBodyStatuses) {
  for (int status : {204, 304, 100, 102, 103}) {
    Http1StreamParser parser(Role::kResponse);
    const std::string head =
        "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 5\r\n\r\n";
    std::vector<HttpMessage> messages = parser.feed(head + "HTTP/1.1 200 OK\r\n\r\n");
    ASSERT_EQ(messages.size(), 1u) << status;
    EXPECT_EQ(messages[0].status, status);
    EXPECT_EQ(messages[0].body_bytes, 0u);
    EXPECT_EQ(parser.state(), State::kNeedMore);  // the 200 reads until close
  }
}

TEST(Http1StreamParser, InterimResponseDoesNotConsumeTheExpectedMethod) {
  Http1StreamParser parser(Role::kResponse);
  parser.expect_response_to("HEAD");
  std::vector<HttpMessage> messages =
      parser.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].method, "HEAD");
  EXPECT_EQ(messages[1].method, "HEAD");
  EXPECT_EQ(messages[1].body_bytes, 0u);
}

TEST(Http1StreamParser, ResponseUntilClose) {
  Http1StreamParser parser(Role::kResponse);
  EXPECT_TRUE(parser.feed("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\npart one,").empty());
  EXPECT_TRUE(parser.feed(" part two").empty());
  EXPECT_EQ(parser.state(), State::kNeedMore);
  EXPECT_EQ(parser.current_body_bytes(), 18u);
  std::optional<HttpMessage> m = parser.finish();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->version_minor, 0);
  EXPECT_EQ(m->body, "part one, part two");
  EXPECT_EQ(parser.state(), State::kOk);
  EXPECT_EQ(parser.messages(), 1u);
  EXPECT_EQ(parser.finish(), std::nullopt);  // nothing more
}

TEST(Http1StreamParser, ResponseWithNonChunkedTransferEncodingReadsUntilClose) {
  Outcome o = parse_whole(Role::kResponse,
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\n"
                          "abcdef");
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(o.messages[0].body, "abcdef");
}

TEST(Http1StreamParser, CloseInsideAMessageIsAnError) {
  Http1StreamParser parser(Role::kResponse);
  parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(parser.finish(), std::nullopt);
  EXPECT_EQ(parser.state(), State::kError);
  EXPECT_EQ(parser.errors(), 1u);
}

TEST(Http1StreamParser, OversizedHeaderIsAnError) {
  Http1StreamParser parser(Role::kRequest, {.max_header_bytes = 1024});
  const std::string big(2000, 'a');
  EXPECT_TRUE(parser.feed("GET / HTTP/1.1\r\nX-Big: " + big).empty());
  EXPECT_EQ(parser.state(), State::kError);
  EXPECT_EQ(parser.error(), "header section too large");
  EXPECT_EQ(parser.errors(), 1u);
  // Bytes after the limit are ignored and counted, and memory does not grow with them.
  EXPECT_GT(parser.ignored_bytes(), 900u);
  const uint64_t ignored = parser.ignored_bytes();
  EXPECT_TRUE(parser.feed(big + "\r\n\r\nGET / HTTP/1.1\r\n\r\n").empty());
  EXPECT_EQ(parser.ignored_bytes(), ignored + big.size() + 4 + 18);

  parser.reset();
  EXPECT_EQ(parser.state(), State::kOk);
  EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\n\r\n").size(), 1u);
  EXPECT_EQ(parser.errors(), 1u);  // counters survive reset
}

TEST(Http1StreamParser, HeaderLimitCountsTheWholeSection) {
  // Many short lines that add up past the limit fail just like one long line.
  Http1StreamParser parser(Role::kRequest, {.max_header_bytes = 100});
  std::string input = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 20; ++i) input += "A: b\r\n";
  parser.feed(input);
  EXPECT_EQ(parser.state(), State::kError);
}

TEST(Http1StreamParser, TooManyHeadersIsAnError) {
  Http1StreamParser parser(Role::kRequest, {.max_headers = 3});
  parser.feed("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
  EXPECT_EQ(parser.state(), State::kError);
  EXPECT_EQ(parser.error(), "too many header fields");
}

TEST(Http1StreamParser, HugeDeclaredContentLengthDoesNotAllocate) {
  Http1StreamParser parser(Role::kResponse, {.max_body_kept = 4096});
  const std::string chunk(64 * 1024, 'z');
  const size_t heap_before = heap_in_use();
  EXPECT_TRUE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000\r\n\r\n").empty());
  for (int i = 1; i <= 16; ++i) {
    EXPECT_TRUE(parser.feed(chunk).empty());
    EXPECT_EQ(parser.current_body_bytes(), uint64_t(i) * chunk.size());
    EXPECT_LT(heap_in_use(), heap_before + 32 * 1024);  // 1 MiB fed, about 4 KiB kept
  }
  EXPECT_EQ(parser.state(), State::kNeedMore);
}

TEST(Http1StreamParser, HugeDeclaredChunkSizeDoesNotAllocate) {
  Http1StreamParser parser(Role::kResponse, {.max_body_kept = 16});
  const size_t heap_before = heap_in_use();
  parser.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n");
  parser.feed(std::string(1000, 'q'));
  EXPECT_LT(heap_in_use(), heap_before + 32 * 1024);
  EXPECT_EQ(parser.current_body_bytes(), 1000u);
  EXPECT_EQ(parser.state(), State::kNeedMore);
  // One hex digit more than fits in 64 bits is an error, not a wrap-around.
  Http1StreamParser overflow(Role::kResponse);
  overflow.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n");
  EXPECT_EQ(overflow.state(), State::kError);
}

// A body of declared length that comes in many pieces is stored in one allocation, with
// room past its end for in-place JSON parsers; one over the keep limit, the limit's worth.
TEST(Http1StreamParser, DeclaredBodyIsStoredOnceWithSlackPastItsEnd) {
  const std::string body(300000, 'x');
  const std::string wire =
      "POST / HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::vector<size_t> cuts;
  for (size_t at = 100; at < wire.size(); at += 16384) cuts.push_back(at);
  const Outcome whole = parse_pieces(Role::kRequest, wire, cuts);
  ASSERT_EQ(whole.messages.size(), 1u);
  EXPECT_EQ(whole.messages[0].body, body);
  EXPECT_GE(whole.messages[0].body.capacity(), body.size() + kBodySlack);
  EXPECT_LT(whole.messages[0].body.capacity(), body.size() + 4096);  // not doubled past it

  const Http1StreamParser::Limits limits{.max_body_kept = 100000};
  const Outcome cut = parse_pieces(Role::kRequest, wire, cuts, {}, limits);
  ASSERT_EQ(cut.messages.size(), 1u);
  EXPECT_EQ(cut.messages[0].body.size(), 100000u);
  EXPECT_TRUE(cut.messages[0].body_truncated);
  EXPECT_GE(cut.messages[0].body.capacity(), 100000 + kBodySlack);
  EXPECT_LT(cut.messages[0].body.capacity(), 100000u + 4096);
}

TEST(Http1StreamParser, BodyOverTheKeepLimitIsTruncatedButCounted) {
  const Http1StreamParser::Limits limits{.max_body_kept = 10};
  Outcome fixed = parse_whole(Role::kRequest,
                              "POST / HTTP/1.1\r\nContent-Length: 26\r\n\r\n"
                              "abcdefghijklmnopqrstuvwxyzGET / HTTP/1.1\r\n\r\n",
                              {}, limits);
  ASSERT_EQ(fixed.messages.size(), 2u);
  EXPECT_EQ(fixed.messages[0].body, "abcdefghij");
  EXPECT_EQ(fixed.messages[0].body_bytes, 26u);
  EXPECT_TRUE(fixed.messages[0].body_truncated);
  EXPECT_FALSE(fixed.messages[1].body_truncated);

  Outcome chunked = parse_whole(Role::kResponse,
                                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n",
                                {}, limits);
  ASSERT_EQ(chunked.messages.size(), 1u);
  EXPECT_EQ(chunked.messages[0].body, "0123456789");
  EXPECT_EQ(chunked.messages[0].body_bytes, 16u);
  EXPECT_TRUE(chunked.messages[0].body_truncated);

  Outcome exact = parse_whole(Role::kRequest,
                              "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", {}, limits);
  ASSERT_EQ(exact.messages.size(), 1u);
  EXPECT_FALSE(exact.messages[0].body_truncated);
}

TEST(Http1StreamParser, ContentLengthValidation) {
  auto request_with = [](const std::string& fields) {
    return parse_whole(Role::kRequest, "POST / HTTP/1.1\r\n" + fields + "\r\nabcde");
  };
  // Accepted: identical repeats, in separate fields or as a list.
  for (const char* ok : {"Content-Length: 5\r\n", "Content-Length: 5\r\ncontent-length: 5\r\n",
                         "Content-Length: 5, 5\r\n", "Content-Length: 005\r\n"}) {
    Outcome o = request_with(ok);
    ASSERT_EQ(o.messages.size(), 1u) << ok;
    EXPECT_EQ(o.messages[0].body, "abcde") << ok;
  }
  for (const char* bad : {"Content-Length: 5\r\nContent-Length: 6\r\n", "Content-Length: 5, 6\r\n",
                          "Content-Length: -1\r\n", "Content-Length: abc\r\n",
                          "Content-Length:\r\n", "Content-Length: 1 2\r\n", "Content-Length: +5\r\n",
                          "Content-Length: 0x5\r\n", "Content-Length: 5,\r\n",
                          "Content-Length: 99999999999999999999999\r\n"}) {
    Outcome o = request_with(bad);
    EXPECT_TRUE(o.messages.empty()) << bad;
    EXPECT_EQ(o.state, State::kError) << bad;
    EXPECT_EQ(o.error, "invalid content-length") << bad;
  }
}

TEST(Http1StreamParser, TransferEncodingValidation) {
  for (const char* bad : {"Transfer-Encoding: gzip\r\n", "Transfer-Encoding: chunked, gzip\r\n",
                          "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                          "Transfer-Encoding: ,\r\n"}) {
    Outcome o = parse_whole(Role::kRequest, std::string("POST / HTTP/1.1\r\n") + bad + "\r\n");
    EXPECT_EQ(o.state, State::kError) << bad;
  }
  Outcome o = parse_whole(Role::kRequest,
                          "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: "
                          "chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n");
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(o.messages[0].body, "x");
}

TEST(Http1StreamParser, MalformedChunkingIsAnError) {
  for (const char* bad : {"3\r\nabcd\r\n0\r\n\r\n", "g\r\n", "\r\n", " 3\r\nabc\r\n",
                          "3 x\r\nabc\r\n", "3\r\nabc\r\n0\r\nbad trailer\r\n\r\n"}) {
    Outcome o = parse_whole(Role::kResponse,
                            std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") + bad);
    EXPECT_EQ(o.state, State::kError) << bad;
    EXPECT_TRUE(o.messages.empty()) << bad;
  }
}

TEST(Http1StreamParser, MalformedStartLinesAndFieldsAreErrors) {
  using namespace std::string_literals;
  for (const std::string& bad : std::vector<std::string>
       {"GET /\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1 \r\n\r\n", "GET / HTTP/2.0\r\n\r\n",
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", "GET / http/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n", "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", "GET / HTTP/1.1\r\nA: \0\r\n\r\n"s}) {
    Outcome o = parse_whole(Role::kRequest, bad);
    EXPECT_EQ(o.state, State::kError) << bad;
    EXPECT_TRUE(o.messages.empty()) << bad;
  }
  for (const char* bad : {"HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 099 X\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
                          "HTTP/1.1  200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "ICY 200 OK\r\n\r\n"}) {
    Outcome o = parse_whole(Role::kResponse, bad);
    EXPECT_EQ(o.state, State::kError) << bad;
  }
}

// Field values are read eight bytes at a time: every byte value, at every place in a value
// longer than a word, in a value made of any bytes around it (obs-text, HTAB, 0x7F, DEL's
// neighbours), is accepted or refused as RFC 9110 5.5 says.
TEST(Http1StreamParser, EveryByteOfAFieldValueIsJudgedWhereverItIs) {
  const std::string filler = "ab\x80\xff~ \t\x7e\x21\x20\xc3\xa9x";
  for (int b = 0; b < 256; ++b) {
    if (b == '\r' || b == '\n') continue;  // these end the line instead
    const bool allowed = b == '\t' || (b >= 0x20 && b != 0x7f);
    for (size_t at = 0; at < 19; ++at) {
      std::string value = filler + filler.substr(0, 6);  // 19 bytes: two words and a tail
      value[at] = static_cast<char>(b);
      if (at == 0 && (b == ' ' || b == '\t')) continue;  // leading whitespace is trimmed
      const std::string request = "GET / HTTP/1.1\r\nX: v" + value + "v\r\n\r\n";
      const Outcome o = parse_whole(Role::kRequest, request);
      ASSERT_EQ(o.state == State::kOk, allowed) << "byte " << b << " at " << at;
      if (allowed) {
        ASSERT_EQ(o.messages.size(), 1u);
        EXPECT_EQ(o.messages[0].headers[0].value, "v" + value + "v");
      }
    }
  }
}

TEST(Http1StreamParser, LenientLineEndingsAndStatusLines) {
  Outcome o = parse_whole(Role::kResponse, "\r\n\nHTTP/1.1 200\nContent-Length: 1\n\nx", {});
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(o.messages[0].status, 200);
  EXPECT_EQ(o.messages[0].reason, "");
  EXPECT_EQ(o.messages[0].body, "x");
  EXPECT_EQ(o.messages[0].header_bytes, 32u);  // stray leading empty lines are not counted
}

TEST(Http1StreamParser, GarbageInputIsAnErrorAndStaysOne) {
  Http1StreamParser parser(Role::kRequest);
  EXPECT_TRUE(parser.feed(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n", 12)).empty());
  EXPECT_EQ(parser.state(), State::kError);
  EXPECT_FALSE(parser.error().empty());
  EXPECT_EQ(parser.errors(), 1u);
  // Valid input after an error is not parsed: the stream position is unknown.
  EXPECT_TRUE(parser.feed("GET / HTTP/1.1\r\n\r\n").empty());
  EXPECT_EQ(parser.state(), State::kError);
  EXPECT_EQ(parser.ignored_bytes(), 18u);
  EXPECT_EQ(parser.errors(), 1u);
  EXPECT_EQ(parser.finish(), std::nullopt);
  EXPECT_EQ(parser.errors(), 1u);
}

TEST(Http1StreamParser, SwitchingProtocolsAndConnectBecomeTunnels) {
  Http1StreamParser upgraded(Role::kResponse);
  upgraded.expect_response_to("GET");
  std::vector<HttpMessage> messages =
      upgraded.feed("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].status, 101);
  EXPECT_TRUE(upgraded.in_tunnel());
  EXPECT_EQ(upgraded.state(), State::kOk);
  EXPECT_EQ(upgraded.ignored_bytes(), 7u);
  EXPECT_EQ(upgraded.errors(), 0u);

  Http1StreamParser connect(Role::kResponse);
  connect.expect_response_to("CONNECT");
  messages = connect.feed("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_TRUE(connect.in_tunnel());

  Http1StreamParser refused(Role::kResponse);
  refused.expect_response_to("CONNECT");
  messages = refused.feed("HTTP/1.1 407 Auth\r\nContent-Length: 2\r\n\r\nno");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].body, "no");
  EXPECT_FALSE(refused.in_tunnel());

  Http1StreamParser client(Role::kRequest);
  client.feed("CONNECT host:443 HTTP/1.1\r\nHost: host:443\r\n\r\n");
  client.enter_tunnel();  // the caller saw the 200 on the other side
  client.feed("\x16\x03\x01");
  EXPECT_EQ(client.state(), State::kOk);
  EXPECT_EQ(client.errors(), 0u);
}

// Random bytes, and valid streams with random damage, in random pieces: must never crash,
// and every parser must end in a consistent state.
TEST(Http1StreamParser, RandomInputNeverCrashes) {
  std::mt19937_64 rng(0x11e7a9);
  const std::vector<SplitCase> seeds = split_cases();
  const Http1StreamParser::Limits small{.max_header_bytes = 256, .max_headers = 8, .max_body_kept = 64};
  const std::string alphabet = "GETPOSTHP/1.0 \r\n:;,chunkedContent-LengthTransfer-Encoding0123456789abcdef";
  for (int iteration = 0; iteration < 10000; ++iteration) {
    std::string input;
    switch (rng() % 3) {
      case 0:  // raw bytes
        input.resize(rng() % 512);
        for (char& c : input) c = static_cast<char>(rng());
        break;
      case 1:  // HTTP-flavoured soup
        input.resize(rng() % 512);
        for (char& c : input) c = alphabet[rng() % alphabet.size()];
        break;
      default: {  // a valid stream with a few bytes changed
        input = seeds[rng() % seeds.size()].input;
        for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
          input[rng() % input.size()] = static_cast<char>(rng());
        }
      }
    }
    for (Role role : {Role::kRequest, Role::kResponse}) {
      Http1StreamParser parser(role, iteration % 2 ? small : Http1StreamParser::Limits{});
      parser.expect_response_to(rng() % 4 ? "GET" : "HEAD");
      size_t pos = 0;
      while (pos < input.size()) {
        const size_t n = std::min<size_t>(input.size() - pos, 1 + rng() % 64);
        for (const HttpMessage& m : parser.feed(std::string_view(input).substr(pos, n))) {
          ASSERT_LE(m.body.size(), parser.messages() ? m.body_bytes : 0);
          ASSERT_LE(m.body.size(), iteration % 2 ? small.max_body_kept : size_t{1} << 20);
        }
        pos += n;
      }
      parser.finish();
      ASSERT_EQ(parser.state() == State::kError, !parser.error().empty());
      ASSERT_LE(parser.ignored_bytes(), input.size());
    }
  }
}

}  // namespace
}  // namespace llmtap::http

namespace llmtap::http {
namespace {

TEST(Http1StreamParser, MessagesCarryTheTimesOfTheirFirstAndLastBytes) {
  Http1StreamParser parser(Role::kRequest);
  std::vector<HttpMessage> out;
  parser.feed("\r\n", 5, out);  // a stray CRLF between messages is not the next message's start
  parser.feed("POST / HTTP/1.1\r\nContent-Length: 4\r\n", 10, out);
  parser.feed("\r\nab", 20, out);
  parser.feed("cdGET /next HTTP/1.1\r\n", 30, out);
  parser.feed("\r\n", 40, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].first_ns, 10u);
  EXPECT_EQ(out[0].last_ns, 30u);
  EXPECT_EQ(out[1].first_ns, 30u);
  EXPECT_EQ(out[1].last_ns, 40u);
}

TEST(Http1StreamParser, WireBytesCountChunkFramingAndTrailers) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string body = "5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nX-Trailer: t\r\n\r\n";
  const Outcome outcome = parse_whole(Role::kResponse, head + body);
  ASSERT_EQ(outcome.messages.size(), 1u);
  EXPECT_EQ(outcome.messages[0].header_bytes, head.size());
  EXPECT_EQ(outcome.messages[0].body_bytes, 6u);
  EXPECT_EQ(outcome.messages[0].wire_bytes, head.size() + body.size());

  const std::string fixed = "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  EXPECT_EQ(parse_whole(Role::kRequest, fixed).messages.at(0).wire_bytes, fixed.size());
}

TEST(Http1StreamParser, RequestHeadFilterSkipsTheBodyButFramesIt) {
  Http1StreamParser parser(Role::kRequest);
  std::vector<std::string> seen;
  parser.set_request_head_filter([&](const HttpMessage& head) {
    seen.push_back(head.target);
    return head.target != "/drop";
  });
  const std::vector<HttpMessage> out = parser.feed(
      "POST /drop HTTP/1.1\r\nContent-Length: 5\r\n\r\nsecrt"
      "POST /keep HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(seen, (std::vector<std::string>{"/drop", "/keep"}));
  EXPECT_EQ(out[0].body, "");
  EXPECT_EQ(out[0].body_bytes, 5u);
  EXPECT_TRUE(out[0].body_skipped);
  EXPECT_EQ(out[1].body, "abc");
  EXPECT_FALSE(out[1].body_skipped);
}

TEST(Http1StreamParser, ExpectedResponseCanSkipItsBody) {
  Http1StreamParser parser(Role::kResponse);
  parser.expect_response_to("POST", false);
  parser.expect_response_to("POST");
  const std::vector<HttpMessage> out =
      parser.feed("HTTP/1.1 100 Continue\r\n\r\n"
                  "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
                  "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ndef");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].body, "");
  EXPECT_EQ(out[1].body_bytes, 3u);
  EXPECT_TRUE(out[1].body_skipped);
  EXPECT_EQ(out[2].body, "def");
}

TEST(Http1StreamParser, FinishKeepingPartialReturnsTheCutMessage) {
  Http1StreamParser parser(Role::kResponse);
  parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 7);
  Http1StreamParser::Finished finished = parser.finish_keeping_partial();
  ASSERT_TRUE(finished.message);
  EXPECT_FALSE(finished.complete);
  EXPECT_EQ(finished.message->body, "abc");
  EXPECT_EQ(finished.message->last_ns, 7u);
  EXPECT_EQ(parser.state(), State::kError);

  Http1StreamParser until_close(Role::kResponse);
  until_close.feed("HTTP/1.1 200 OK\r\n\r\nall");
  finished = until_close.finish_keeping_partial();
  ASSERT_TRUE(finished.message);
  EXPECT_TRUE(finished.complete);
  EXPECT_EQ(finished.message->body, "all");

  Http1StreamParser idle(Role::kRequest);
  EXPECT_FALSE(idle.finish_keeping_partial().message);
  EXPECT_EQ(idle.state(), State::kOk);
}

}  // namespace
}  // namespace llmtap::http

namespace llmtap::http {
namespace {

TEST(Http1StreamParserGap, MissingBytesInsideAKnownLengthBodyAreCountedAndFramingGoesOn) {
  Http1StreamParser parser(Http1StreamParser::Role::kRequest);
  std::vector<HttpMessage> out;
  parser.feed("POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 1, out);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(parser.skip_body(7, 2, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body, "abc");
  EXPECT_EQ(out[0].body_bytes, 10u);
  EXPECT_TRUE(out[0].body_truncated);
  EXPECT_EQ(out[0].last_ns, 2u);
  out.clear();
  parser.feed("GET /b HTTP/1.1\r\n\r\n", 3, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].target, "/b");
}

TEST(Http1StreamParserGap, AHoleInsideAChunkIsSkippedButNotAcrossChunks) {
  Http1StreamParser parser(Http1StreamParser::Role::kRequest);
  std::vector<HttpMessage> out;
  parser.feed("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nab", 1, out);
  EXPECT_TRUE(parser.skip_body(6, 2, out));
  parser.feed("\r\n0\r\n\r\n", 3, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body_bytes, 8u);

  Http1StreamParser other(Http1StreamParser::Role::kRequest);
  out.clear();
  other.feed("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nab", 1, out);
  EXPECT_FALSE(other.skip_body(20, 2, out));  // runs past the chunk: framing would be a guess
}

TEST(Http1StreamParserGap, AHoleOutsideABodyCannotBeCrossed) {
  Http1StreamParser parser(Http1StreamParser::Role::kResponse);
  std::vector<HttpMessage> out;
  parser.feed("HTTP/1.1 200 OK\r\nContent-Le", 1, out);
  EXPECT_FALSE(parser.skip_body(5, 2, out));
  Http1StreamParser idle(Http1StreamParser::Role::kResponse);
  EXPECT_FALSE(idle.skip_body(1, 2, out));
}

}  // namespace
}  // namespace llmtap::http
