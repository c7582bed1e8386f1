#include "http_request_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llmtap::testing {
namespace {

using Result = HttpRequestReader::Result;

// Feeds `bytes` in `step`-sized pieces and collects every complete request.
std::vector<HttpRequest> read_all(std::string_view bytes, size_t step, Result* last = nullptr) {
  HttpRequestReader reader;
  std::vector<HttpRequest> requests;
  Result result = Result::kNeedMore;
  for (size_t i = 0; i < bytes.size() && result != Result::kMalformed; i += step) {
    reader.feed(bytes.substr(i, step));
    HttpRequest request;
    while ((result = reader.next(request)) == Result::kComplete) requests.push_back(request);
  }
  if (last) *last = result;
  return requests;
}

Result final_result(std::string_view bytes) {
  Result result;
  read_all(bytes, bytes.size(), &result);
  return result;
}

TEST(HttpRequestReaderTest, ParsesRequestLineHeadersAndBody) {
  const auto requests = read_all(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nCONTENT-length:  5 \r\n"
      "X-Response-Bytes: 42\r\n\r\nhello",
      1000);
  ASSERT_EQ(requests.size(), 1u);
  const HttpRequest& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/v1/chat/completions");
  EXPECT_EQ(r.version, "HTTP/1.1");
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.header("x-response-bytes"), "42");
  EXPECT_EQ(r.header("Content-Length"), "5");
  EXPECT_EQ(r.header("missing"), std::nullopt);
  EXPECT_FALSE(r.wants_close());
}

TEST(HttpRequestReaderTest, ByteAtATimeEqualsAllAtOnce) {
  const std::string stream =
      "\r\nPOST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
      "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nwiki\r\n0\r\nT: v\r\n\r\n"
      "GET /c HTTP/1.1\r\n\r\n";
  for (size_t step : {1u, 2u, 7u, 1000u}) {
    const auto requests = read_all(stream, step);
    ASSERT_EQ(requests.size(), 3u) << "step " << step;
    EXPECT_EQ(requests[0].body, "abc");
    EXPECT_EQ(requests[1].target, "/b");
    EXPECT_EQ(requests[1].body, "wiki");
    EXPECT_EQ(requests[2].method, "GET");
    EXPECT_EQ(requests[2].body, "");
  }
}

TEST(HttpRequestReaderTest, DecodesMultiChunkBody) {
  const auto requests = read_all(
      "POST / HTTP/1.1\r\ntransfer-encoding: Chunked\r\n\r\n3\r\nabc\r\nA\r\n0123456789\r\n"
      "0\r\n\r\n",
      5);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, "abc0123456789");
}

TEST(HttpRequestReaderTest, ConnectionSemantics) {
  const auto close_of = [](std::string_view head) {
    const auto requests = read_all(std::string(head) + "\r\n", 1000);
    return requests.at(0).wants_close();
  };
  EXPECT_FALSE(close_of("GET / HTTP/1.1\r\n"));
  EXPECT_TRUE(close_of("GET / HTTP/1.1\r\nConnection: Close\r\n"));
  EXPECT_TRUE(close_of("GET / HTTP/1.1\r\nConnection: upgrade, close\r\n"));
  EXPECT_TRUE(close_of("GET / HTTP/1.0\r\n"));
  EXPECT_FALSE(close_of("GET / HTTP/1.0\r\nConnection: keep-alive\r\n"));
}

TEST(HttpRequestReaderTest, RejectsMalformedRequests) {
  const std::vector<std::string> bad = {
      "garbage\r\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
      "GET / HTTP/1.1\r\nName : v\r\n\r\n",
      "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 999999999999999999999\r\n\r\n",
  };
  for (const std::string& request : bad) {
    EXPECT_EQ(final_result(request), Result::kMalformed) << request;
  }
}

TEST(HttpRequestReaderTest, RejectsOversizedHead) {
  const std::string head =
      "GET / HTTP/1.1\r\nX: " + std::string(HttpRequestReader::kMaxHeadBytes, 'a');
  HttpRequestReader reader;
  reader.feed(head);
  HttpRequest request;
  EXPECT_EQ(reader.next(request), Result::kMalformed);
  EXPECT_EQ(reader.error(), "request head too large");
  EXPECT_EQ(reader.next(request), Result::kMalformed);  // sticky
}

TEST(HttpRequestReaderTest, WaitsForIncompleteBody) {
  Result result;
  const auto requests = read_all("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 4, &result);
  EXPECT_TRUE(requests.empty());
  EXPECT_EQ(result, Result::kNeedMore);
}

}  // namespace
}  // namespace llmtap::testing
