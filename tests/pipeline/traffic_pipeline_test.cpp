#include "pipeline/traffic_pipeline.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "corpus_wire.h"
#include "llm/catalog/provider_catalog.h"

namespace llmtap::pipeline {
namespace {

using capture::Direction;

// Feeds a pipeline TLS calls as one client process would make them.
class PipelineHarness {
 public:
  explicit PipelineHarness(PipelineOptions options = {})
      : options_(with_quiet_hook(std::move(options))),
        catalog_(llm::ProviderCatalog::builtin()),
        processes_("/nonexistent"),
        pipeline_(
            catalog_, options_, processes_, [](uint64_t ns) { return ns + 1'000'000'000; },
            [this](const llm::LlmCall& call, const llm::CallBodies&) { calls.push_back(call); }) {}

  // `lost`: bytes of the call missing after `bytes` (ring buffer full); `cut`: the call was
  // longer than the capture limit by that many bytes.
  // `quiet`: the capture delivers the call without data, as the pipeline asked.
  void send(uint64_t conn, Direction direction, std::string_view bytes, uint32_t lost = 0,
            uint32_t cut = 0, bool quiet = false, bool resumed = false) {
    capture::TlsCall call;
    call.pid = 4242;
    call.tid = 4242;
    call.uid = 1000;
    call.ssl = 0xabc000 + conn;
    call.conn_id = conn;
    call.mono_ns = now_ += 1'000'000;
    call.direction = direction;
    call.call_len = static_cast<uint32_t>(bytes.size()) + lost + cut;
    call.lost_len = lost;
    call.truncated = cut != 0;
    call.gap_before = std::exchange(gap_next_, false);
    call.quiet = quiet;
    call.resumed = resumed;
    call.data = quiet ? std::string_view{} : bytes;
    call.comm = "client";
    call.remote.family = 2;
    call.remote.port = 443;
    pipeline_.on_tls_call(call);
  }
  // Sends `bytes` cut into calls of at most `piece` bytes.
  void send_in_pieces(uint64_t conn, Direction direction, std::string_view bytes, size_t piece) {
    for (size_t at = 0; at < bytes.size(); at += piece)
      send(conn, direction, bytes.substr(at, piece));
  }
  // A call whose record says an earlier call in its direction was lost whole.
  void send_after_lost_call(uint64_t conn, Direction direction, std::string_view bytes) {
    gap_next_ = true;
    send(conn, direction, bytes);
  }
  void close(uint64_t conn) {
    capture::TlsClose c;
    c.pid = 4242;
    c.ssl = 0xabc000 + conn;
    c.conn_id = conn;
    c.mono_ns = now_ += 1'000'000;
    pipeline_.on_tls_close(c);
  }
  TrafficPipeline& pipeline() { return pipeline_; }

  std::vector<llm::LlmCall> calls;
  std::vector<std::pair<uint32_t, uint64_t>> quieted;  // (pid, ssl) handed to the capture
  std::vector<uint64_t> quieted_until_llm;             // ssl handed to the capture
  std::vector<uint64_t> forgotten;                     // quiet ssl whose connection ended

 private:
  PipelineOptions with_quiet_hook(PipelineOptions options) {
    options.quiet_connection = [this](uint32_t pid, uint64_t ssl) {
      quieted.emplace_back(pid, ssl);
    };
    options.quiet_until_llm_request = [this](uint32_t, uint64_t ssl) {
      quieted_until_llm.push_back(ssl);
    };
    options.forget_quiet = [this](uint32_t, uint64_t ssl) { forgotten.push_back(ssl); };
    return options;
  }

  PipelineOptions options_;
  llm::ProviderCatalog catalog_;
  enrich::ProcessIdentityCache processes_;
  TrafficPipeline pipeline_;
  uint64_t now_ = 1'000'000'000;
  bool gap_next_ = false;
};

std::vector<testing::CorpusCase> corpus() {
  std::vector<testing::CorpusCase> cases;
  for (const auto& file : testing::corpus_case_files(LLMTAP_CORPUS_DIR)) {
    cases.push_back(testing::load_corpus_case(file));
  }
  return cases;
}

void expect_matches(const llm::LlmCall& call, const testing::CorpusCase& c) {
  const testing::CorpusExpect& x = c.expect;
  SCOPED_TRACE(c.name);
  EXPECT_EQ(call.provider, x.provider);
  EXPECT_EQ(call.api, x.api);
  EXPECT_EQ(call.request_model, x.request_model);
  EXPECT_EQ(call.response_model, x.response_model);
  EXPECT_EQ(call.stream, x.stream);
  EXPECT_EQ(call.status, x.status);
  EXPECT_EQ(call.tokens.input, x.input_tokens);
  EXPECT_EQ(call.tokens.output, x.output_tokens);
  EXPECT_EQ(call.tokens.total, x.total_tokens);
  EXPECT_EQ(call.tokens.cached, x.cached_tokens);
  EXPECT_EQ(call.tokens.reasoning, x.reasoning_tokens);
  EXPECT_EQ(call.error_type.empty() ? std::nullopt : std::optional(call.error_type), x.error_type);
  EXPECT_EQ(call.server_name, llm::host_without_port(c.host));
  EXPECT_EQ(call.path, c.path.substr(0, c.path.find('?')));
  EXPECT_EQ(call.request_bytes, c.request_bytes.size());
  EXPECT_EQ(call.response_bytes, c.response_bytes.size());
}

TEST(TrafficPipeline, EveryCorpusCaseFromTheWireGivesItsRecord) {
  const auto cases = corpus();
  ASSERT_GE(cases.size(), 40u);
  for (const auto& c : cases) {
    PipelineHarness h;
    h.send_in_pieces(1, Direction::kWrite, c.request_bytes, 16384);
    h.send_in_pieces(1, Direction::kRead, c.response_bytes, 16384);
    ASSERT_EQ(h.calls.size(), 1u) << c.name;
    expect_matches(h.calls[0], c);
    EXPECT_EQ(h.calls[0].process.pid, 4242u);
    EXPECT_EQ(h.calls[0].conn_id, 1u);
    EXPECT_GT(h.calls[0].ttfb_ns, 0u);
    EXPECT_GE(h.calls[0].latency_ns, h.calls[0].ttfb_ns);
  }
}

TEST(TrafficPipeline, WhereTheCallsCutTheBytesNeverChangesTheRecord) {
  std::mt19937 rng(7);
  for (const auto& c : corpus()) {
    PipelineHarness h;
    for (const std::string* side : {&c.request_bytes, &c.response_bytes}) {
      const Direction d = side == &c.request_bytes ? Direction::kWrite : Direction::kRead;
      size_t at = 0;
      while (at < side->size()) {
        const size_t n = std::uniform_int_distribution<size_t>(1, 700)(rng);
        h.send(1, d, std::string_view(*side).substr(at, n));
        at += n;
      }
    }
    ASSERT_EQ(h.calls.size(), 1u) << c.name;
    expect_matches(h.calls[0], c);
  }
}

TEST(TrafficPipeline, HundredCallsOnOneKeepAliveConnectionGiveHundredRecords) {
  const auto cases = corpus();
  PipelineHarness h;
  for (int i = 0; i < 100; ++i) {
    const auto& c = cases[static_cast<size_t>(i) % cases.size()];
    h.send(7, Direction::kWrite, c.request_bytes);
    h.send(7, Direction::kRead, c.response_bytes);
  }
  ASSERT_EQ(h.calls.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    expect_matches(h.calls[static_cast<size_t>(i)], cases[static_cast<size_t>(i) % cases.size()]);
    EXPECT_EQ(h.calls[static_cast<size_t>(i)].sequence, static_cast<uint64_t>(i + 1));
  }
  EXPECT_EQ(h.pipeline().open_connections(), 1u);
  h.close(7);
  EXPECT_EQ(h.pipeline().open_connections(), 0u);
}

// The catalog's match of a request head is taken again at the exchange's end from where the
// head filter left it; heads that waited longer than the kept matches are matched again, to
// the same answer.
TEST(TrafficPipeline, EachExchangeGetsItsOwnHeadsMatch) {
  const auto cases = corpus();
  PipelineHarness h;
  constexpr size_t kConnections = 100;
  for (size_t i = 0; i < kConnections; ++i) {
    h.send(i + 1, Direction::kWrite, cases[i % cases.size()].request_bytes);
  }
  for (size_t i = kConnections; i-- > 0;) {
    h.send(i + 1, Direction::kRead, cases[i % cases.size()].response_bytes);
  }
  ASSERT_EQ(h.calls.size(), kConnections);
  for (size_t k = 0; k < kConnections; ++k) {
    expect_matches(h.calls[k], cases[(kConnections - 1 - k) % cases.size()]);
  }
  // 64 matches kept: the last 64 heads' were still there, the first 36 were matched again.
  EXPECT_EQ(h.pipeline().stats().head_matches_reused, 64u);
  EXPECT_EQ(h.pipeline().stats().unmatched_exchanges, 0u);

  PipelineHarness one_by_one;
  for (const auto& c : cases) {
    one_by_one.send(1, Direction::kWrite, c.request_bytes);
    one_by_one.send(1, Direction::kRead, c.response_bytes);
  }
  EXPECT_EQ(one_by_one.pipeline().stats().head_matches_reused, cases.size());
}

TEST(TrafficPipeline, AServerProcessReportsTheCallsItAnswered) {
  const auto c = corpus().front();
  PipelineHarness h;
  h.send(8, Direction::kRead, c.request_bytes);  // a gateway reads requests, writes responses
  h.send(8, Direction::kWrite, c.response_bytes);
  ASSERT_EQ(h.calls.size(), 1u);
  expect_matches(h.calls[0], c);
  EXPECT_TRUE(h.calls[0].served);
}

TEST(TrafficPipeline, PromptAndCompletionTextOnlyWhenAskedFor) {
  const auto cases = corpus();
  const auto& c = cases.front();
  PipelineHarness plain;
  plain.send(1, Direction::kWrite, c.request_bytes);
  plain.send(1, Direction::kRead, c.response_bytes);
  ASSERT_EQ(plain.calls.size(), 1u);
  EXPECT_FALSE(plain.calls[0].prompt_text.has_value());
  EXPECT_FALSE(plain.calls[0].completion_text.has_value());
  EXPECT_FALSE(plain.calls[0].served);

  PipelineOptions options;
  options.extract.capture_text = true;
  options.extract.max_text_bytes = 8;
  PipelineHarness with_text(options);
  with_text.send(1, Direction::kWrite, c.request_bytes);
  with_text.send(1, Direction::kRead, c.response_bytes);
  ASSERT_EQ(with_text.calls.size(), 1u);
  ASSERT_TRUE(with_text.calls[0].prompt_text.has_value());
  EXPECT_FALSE(with_text.calls[0].prompt_text->empty());
  EXPECT_LE(with_text.calls[0].prompt_text->size(), 8u);
  ASSERT_TRUE(with_text.calls[0].completion_text.has_value());
  EXPECT_LE(with_text.calls[0].completion_text->size(), 8u);
}

TEST(TrafficPipeline, NonLlmTrafficIsDroppedAndCounted) {
  PipelineHarness h;
  const std::string request =
      "GET /repos/x/y HTTP/1.1\r\nHost: api.github.com\r\n\r\n"
      "POST /upload HTTP/1.1\r\nHost: api.github.com\r\nContent-Length: 5\r\n\r\nhello";
  const std::string response =
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 201 Created\r\nContent-Length: "
      "0\r\n\r\n";
  h.send(3, Direction::kWrite, request);
  h.send(3, Direction::kRead, response);
  EXPECT_TRUE(h.calls.empty());
  EXPECT_EQ(h.pipeline().http_stats().filtered_requests, 2u);
  // A TLS connection that is not HTTP at all (a database, SMTP) is ignored after its start.
  h.send(4, Direction::kWrite, std::string("\x16\x03\x01 binary protocol", 20));
  h.send(4, Direction::kRead, std::string(1000, '\x02'));
  EXPECT_TRUE(h.calls.empty());
  EXPECT_EQ(h.pipeline().http_stats().non_http_connections, 1u);
}

TEST(TrafficPipeline, ConnectionsThatAreNotHttpAreQuietedOnce) {
  PipelineHarness h;
  h.send(4, Direction::kWrite, std::string("\x16\x03\x01 a database protocol"));
  ASSERT_EQ(h.quieted.size(), 1u);
  EXPECT_EQ(h.quieted[0], std::make_pair(uint32_t{4242}, uint64_t{0xabc000 + 4}));
  h.send(4, Direction::kRead, std::string(100, '\x02'));  // before the kernel saw the verdict
  h.send(4, Direction::kRead, std::string(5000, 'x'), 0, 0, /*quiet=*/true);
  EXPECT_EQ(h.quieted.size(), 1u);
  EXPECT_EQ(h.pipeline().stats().quieted_connections, 1u);
  EXPECT_EQ(h.pipeline().stats().quiet_calls, 1u);
  // HTTP connections, LLM or not, are never quieted.
  const auto c = corpus().front();
  h.send(5, Direction::kWrite, c.request_bytes);
  h.send(5, Direction::kRead, c.response_bytes);
  h.send(6, Direction::kWrite, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(h.quieted.size(), 1u);
  EXPECT_EQ(h.calls.size(), 1u);
}

TEST(TrafficPipeline, ANonLlmConnectionIsQuietUntilAnLlmRequestResumesIt) {
  // A keep-alive connection to a host the catalog does not know: its first request is no
  // LLM call, so the capture stops copying it until a call starts an LLM-shaped request.
  const auto c = corpus().front();
  PipelineHarness h;
  const std::string orders =
      "POST /api/orders HTTP/1.1\r\nHost: shop.internal\r\nContent-Length: 5\r\n\r\nhello";
  const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  h.send(7, Direction::kWrite, orders);
  ASSERT_EQ(h.quieted_until_llm.size(), 1u);
  EXPECT_EQ(h.quieted_until_llm[0], 0xabc000u + 7);
  h.send(7, Direction::kRead, ok);  // before the kernel saw the verdict: parsed, dropped
  // Quiet now: a request and its response arrive without their bytes, half a body too.
  h.send(7, Direction::kWrite, orders, 0, 0, /*quiet=*/true);
  h.send(7, Direction::kWrite, orders.substr(0, 20), 0, 0, /*quiet=*/true);
  h.send(7, Direction::kRead, ok, 0, 0, /*quiet=*/true);
  EXPECT_EQ(h.pipeline().stats().quiet_calls, 3u);
  EXPECT_TRUE(h.calls.empty());
  // The kernel resumes copying at an LLM request: parsing starts over at its first byte.
  h.send(7, Direction::kWrite, c.request_bytes, 0, 0, false, /*resumed=*/true);
  h.send(7, Direction::kRead, c.response_bytes);
  ASSERT_EQ(h.calls.size(), 1u);
  expect_matches(h.calls[0], c);
  EXPECT_EQ(h.pipeline().stats().resumed_calls, 1u);
  EXPECT_EQ(h.quieted_until_llm.size(), 1u);
  // The next request that is no LLM call quiets it again.
  h.send(7, Direction::kWrite, orders);
  EXPECT_EQ(h.quieted_until_llm.size(), 2u);
  EXPECT_EQ(h.pipeline().stats().quieted_until_llm_request, 2u);
  // LLM calls and connections that are not HTTP are never quiet until an LLM request.
  h.send(8, Direction::kWrite, c.request_bytes);
  h.send(8, Direction::kRead, c.response_bytes);
  h.send(9, Direction::kWrite, std::string("\x16\x03\x01 not http"));
  EXPECT_EQ(h.quieted_until_llm.size(), 2u);
  EXPECT_EQ(h.calls.size(), 2u);
  // Their kernel entries go with the connections (a later one may reuse the SSL*); the LLM
  // connection had none.
  h.close(7);
  h.close(8);
  h.close(9);
  EXPECT_EQ(h.forgotten, (std::vector<uint64_t>{0xabc000u + 7, 0xabc000u + 9}));
}

TEST(TrafficPipeline, AnUnansweredRequestIsReportedWhenTheConnectionEnds) {
  const auto c = corpus().front();
  PipelineHarness h;
  h.send(9, Direction::kWrite, c.request_bytes);
  EXPECT_TRUE(h.calls.empty());
  h.close(9);
  ASSERT_EQ(h.calls.size(), 1u);
  EXPECT_EQ(h.calls[0].status, 0);
  EXPECT_EQ(h.calls[0].error_type, "no_response");
  EXPECT_EQ(h.calls[0].request_model, c.expect.request_model);
}

TEST(TrafficPipeline, MissingBytesRestartParsingAtTheNextMessage) {
  const auto cases = corpus();
  const auto& c = cases.front();
  PipelineHarness h;
  // The first response loses bytes in the ring buffer: that exchange cannot be trusted, the
  // next one on the same connection is reported normally.
  h.send(5, Direction::kWrite, c.request_bytes);
  h.send(5, Direction::kRead, std::string_view(c.response_bytes).substr(0, 20), 500);
  h.send(5, Direction::kWrite, c.request_bytes);
  h.send(5, Direction::kRead, c.response_bytes);
  ASSERT_FALSE(h.calls.empty());
  expect_matches(h.calls.back(), c);
  EXPECT_EQ(h.pipeline().stats().gaps, 1u);
  EXPECT_EQ(h.pipeline().stats().resyncs, 1u);
}

TEST(TrafficPipeline, ACallLostWholeRestartsParsingAtTheNextRequest) {
  const auto cases = corpus();
  const auto& c = cases.front();
  const std::string_view response = c.response_bytes;
  PipelineHarness h;
  h.send(5, Direction::kWrite, c.request_bytes);
  h.send(5, Direction::kRead, response.substr(0, 30));
  // The next read was lost whole; the one after it arrives mid-message.
  h.send_after_lost_call(5, Direction::kRead, response.substr(60));
  h.send(5, Direction::kWrite, c.request_bytes);
  h.send(5, Direction::kRead, c.response_bytes);
  ASSERT_EQ(h.calls.size(), 2u);
  EXPECT_EQ(h.calls[0].error_type, "incomplete");  // the exchange the hole cut
  expect_matches(h.calls[1], c);
  EXPECT_EQ(h.pipeline().stats().resyncs, 1u);
  EXPECT_EQ(h.pipeline().stats().resync_dropped_calls, 1u);
}

TEST(TrafficPipeline, ABodyLongerThanTheCaptureLimitIsCountedAndFramingGoesOn) {
  const auto cases = corpus();
  const auto& c = cases.front();
  PipelineHarness h;
  // One 3 MiB SSL_write of which the capture kept the first 1 MiB.
  const std::string body = R"({"model":"gpt-4o","messages":[{"role":"user","content":")" +
                           std::string(3 << 20, 'a') + R"("}]})";
  const std::string request =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  const size_t kept = 1 << 20;
  h.send(6, Direction::kWrite, std::string_view(request).substr(0, kept), 0,
         static_cast<uint32_t>(request.size() - kept));
  h.send(6, Direction::kRead, c.response_bytes);
  // The next exchange on the connection is framed as usual.
  h.send(6, Direction::kWrite, c.request_bytes);
  h.send(6, Direction::kRead, c.response_bytes);
  ASSERT_EQ(h.calls.size(), 2u);
  EXPECT_EQ(h.calls[0].request_model, "gpt-4o");
  EXPECT_EQ(h.calls[0].request_body_bytes, body.size());
  EXPECT_EQ(h.calls[0].request_bytes, request.size());
  EXPECT_TRUE(h.calls[0].request_truncated);
  EXPECT_EQ(h.calls[0].status, c.expect.status);
  expect_matches(h.calls[1], c);
  EXPECT_EQ(h.pipeline().stats().gaps, 1u);
  EXPECT_EQ(h.pipeline().stats().resyncs, 0u);
}

TEST(TrafficPipeline, ConnectionsStayBounded) {
  const auto c = corpus().front();
  PipelineOptions options;
  options.max_connections = 100;
  PipelineHarness h(options);
  for (uint64_t conn = 1; conn <= 1000; ++conn) h.send(conn, Direction::kWrite, c.request_bytes);
  EXPECT_LE(h.pipeline().open_connections(), 100u);
  EXPECT_EQ(h.pipeline().stats().connections_evicted, 900u);
}

TEST(TrafficPipeline, RandomGarbageNeverCrashes) {
  std::mt19937 rng(11);
  PipelineHarness h;
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(std::uniform_int_distribution<size_t>(0, 3000)(rng), '\0');
    for (char& ch : bytes) ch = static_cast<char>(rng());
    if (i % 3 == 0)
      bytes = "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n" + bytes;
    h.send(static_cast<uint64_t>(i % 17), i % 2 ? Direction::kRead : Direction::kWrite, bytes);
  }
  for (uint64_t conn = 0; conn < 17; ++conn) h.close(conn);
  EXPECT_EQ(h.pipeline().open_connections(), 0u);
}

}  // namespace
}  // namespace llmtap::pipeline
