// HttpTransport against a local HTTPS collector: the Splunk HEC, Elasticsearch bulk and webhook
// request shapes, gzip, one request a batch over one kept-alive connection, bulk item failures,
// which answers retry and which reject, outages, timeouts, token rotation and trust.
#include "export/http_transport.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "collector_receiver.h"
#include "self_signed_certificate.h"

namespace llmtap::exporter {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using llmtap::testing::CannedAnswer;
using llmtap::testing::CollectorFormat;
using llmtap::testing::CollectorReceiver;
using llmtap::testing::CollectorReceiverOptions;
using Kind = SendResult::Kind;

constexpr auto kWait = 5s;

OutRecord record(uint64_t time_ms, std::string payload) {
  return OutRecord{.time_ms = time_ms, .severity_id = 1, .payload = std::move(payload)};
}

// Payloads as a formatter writes them, with spacing and escapes that must survive verbatim.
std::vector<OutRecord> sample_records(size_t count) {
  std::vector<OutRecord> records;
  for (size_t i = 0; i < count; ++i) {
    records.push_back(record(1700000000123 + i,
                             R"({"metadata": {"uid":"uid-)" + std::to_string(i) +
                                 R"("},"class_uid":4002, "message":"caf\u00e9 \"quoted\" é"})"));
  }
  return records;
}

HttpTarget make_target(HttpTarget::Kind kind, std::string url, std::string token = "") {
  HttpTarget t;
  t.kind = kind;
  t.url = std::move(url);
  t.token = std::move(token);
  return t;
}

std::string_view kind_text(Kind kind) {
  switch (kind) {
    case Kind::kSent:
      return "sent";
    case Kind::kRetry:
      return "retry";
    case Kind::kReject:
      return "reject";
  }
  return "?";
}

::testing::AssertionResult is(const SendResult& result, Kind kind) {
  if (result.kind == kind) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected " << kind_text(kind) << ", got "
                                       << kind_text(result.kind) << " (" << result.error << ")";
}

class HttpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A proxy from the environment must not take the loopback requests.
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    char dir[] = "/tmp/llmtap-http-transport-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    cert_ = (dir_ / "collector.crt").string();
    testing::write_self_signed_certificate(cert_, (dir_ / "collector.key").string());
  }
  void TearDown() override {
    receiver_.reset();
    fs::remove_all(dir_);
  }

  CollectorReceiver& start_receiver(CollectorFormat format, std::string authorization) {
    receiver_ = std::make_unique<CollectorReceiver>(
        CollectorReceiverOptions{.cert_file = cert_,
                                 .key_file = (dir_ / "collector.key").string(),
                                 .format = format,
                                 .authorization = std::move(authorization)});
    return *receiver_;
  }

  HttpTarget target(HttpTarget::Kind kind, std::string token) const {
    HttpTarget t;
    t.kind = kind;
    t.url = receiver_->url();
    t.token = std::move(token);
    t.ca_file = cert_;
    t.timeout = 5000ms;
    return t;
  }

  void write_file(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
  }

  fs::path dir_;
  std::string cert_;
  std::unique_ptr<CollectorReceiver> receiver_;
};

// ---- Configuration

TEST(HttpTargetValidate, AcceptsWorkingTargets) {
  HttpTarget hec = make_target(HttpTarget::Kind::kSplunkHec, "https://splunk:8088", "t");
  EXPECT_EQ(validate(hec), "");
  HttpTarget es = make_target(HttpTarget::Kind::kElasticBulk, "http://es:9200");
  EXPECT_EQ(validate(es), "");
  es.username = "elastic";
  es.password = "changeme";
  EXPECT_EQ(validate(es), "");
  HttpTarget hook = make_target(HttpTarget::Kind::kWebhook, "https://h.example.com/x?y=1");
  hook.headers = {{"X-Tenant", "a"}};
  EXPECT_EQ(validate(hook), "");
}

TEST(HttpTargetValidate, RejectsBrokenTargets) {
  const auto error_of = [](auto change) {
    HttpTarget t = make_target(HttpTarget::Kind::kSplunkHec, "https://splunk:8088", "t");
    change(t);
    return validate(t);
  };
  EXPECT_NE(error_of([](HttpTarget& t) { t.url = ""; }), "");
  EXPECT_NE(error_of([](HttpTarget& t) { t.url = "ftp://splunk"; }), "");
  EXPECT_NE(error_of([](HttpTarget& t) { t.url = "splunk:8088"; }), "");
  EXPECT_NE(error_of([](HttpTarget& t) { t.url = "https://"; }), "");
  EXPECT_NE(error_of([](HttpTarget& t) { t.url = "https://u:secret@splunk:8088"; }), "");
  EXPECT_NE(error_of([](HttpTarget& t) { t.token = ""; }), "");  // HEC needs a token
  EXPECT_EQ(error_of([](HttpTarget& t) {
              t.token = "";
              t.token_file = "/run/secrets/hec";
            }),
            "");
  EXPECT_NE(error_of([](HttpTarget& t) { t.token = "a\r\nX-Evil: 1"; }), "");
  EXPECT_NE(error_of([](HttpTarget& t) { t.timeout = 0ms; }), "");
  EXPECT_NE(error_of([](HttpTarget& t) {
              t.ca_file = "/ca.pem";
              t.insecure_skip_verify = true;
            }),
            "");
  EXPECT_NE(error_of([](HttpTarget& t) { t.headers = {{"X-A", "b\nc"}}; }), "");
  EXPECT_NE(error_of([](HttpTarget& t) { t.headers = {{"Bad Name", "b"}}; }), "");
  EXPECT_NE(error_of([](HttpTarget& t) { t.headers = {{"content-length", "1"}}; }), "");
  EXPECT_NE(error_of([](HttpTarget& t) { t.headers = {{"Authorization", "x"}}; }), "");
  EXPECT_NE(error_of([](HttpTarget& t) { t.username = "u"; }), "");

  HttpTarget es = make_target(HttpTarget::Kind::kElasticBulk, "https://es:9200");
  es.index = "LLMTap";
  EXPECT_NE(validate(es), "");
  es.index = "_private";
  EXPECT_NE(validate(es), "");
  es.index = "a,b";
  EXPECT_NE(validate(es), "");
  es.index = "logs-llmtap-default";
  EXPECT_EQ(validate(es), "");
  es.token = "k";
  es.username = "elastic";
  EXPECT_NE(validate(es), "");  // one kind of credential
  es.token = "";
  es.username = "";
  es.password = "p";
  EXPECT_NE(validate(es), "");

  EXPECT_THROW(HttpTransport(make_target(HttpTarget::Kind::kSplunkHec, "https://splunk:8088")),
               std::invalid_argument);
}

TEST(HttpTransportUrl, AddsTheCollectorPathAndDescribesWithoutSecrets) {
  const auto make = [](HttpTarget::Kind kind, const std::string& url) {
    const HttpTarget t = make_target(kind, url, "s3cr3t-token-value");
    return std::make_unique<HttpTransport>(t);
  };
  auto hec = make(HttpTarget::Kind::kSplunkHec, "https://splunk:8088");
  EXPECT_EQ(hec->request_url(), "https://splunk:8088/services/collector/event");
  EXPECT_EQ(hec->describe(), "splunk-hec https://splunk:8088");
  hec = make(HttpTarget::Kind::kSplunkHec, "https://splunk:8088/services/collector");
  EXPECT_EQ(hec->request_url(), "https://splunk:8088/services/collector");

  auto es = make(HttpTarget::Kind::kElasticBulk, "https://es:9200");
  EXPECT_EQ(es->request_url(), "https://es:9200/_bulk");
  EXPECT_EQ(es->describe(), "elastic-bulk https://es:9200");
  es = make(HttpTarget::Kind::kElasticBulk, "https://gw.example.com/elastic/");
  EXPECT_EQ(es->request_url(), "https://gw.example.com/elastic/_bulk");
  es = make(HttpTarget::Kind::kElasticBulk, "https://es:9200/_bulk?pipeline=ocsf");
  EXPECT_EQ(es->request_url(), "https://es:9200/_bulk?pipeline=ocsf");

  // Webhook URLs often carry their secret in the path or query: neither is described.
  const std::string hook_url = "https://hooks.example.com:8443/T0/B0/pathsecret?code=querysecret";
  auto hook = make(HttpTarget::Kind::kWebhook, hook_url);
  EXPECT_EQ(hook->request_url(), hook_url);
  EXPECT_EQ(hook->describe(), "webhook https://hooks.example.com:8443");
  for (const auto* t : {hec.get(), es.get(), hook.get()}) {
    EXPECT_EQ(t->describe().find("s3cr3t"), std::string::npos);
    EXPECT_EQ(t->max_batch_records(), 500u);
    EXPECT_EQ(t->max_batch_bytes(), size_t{4} << 20);
  }
}

// ---- Bodies

TEST(HttpBodies, HecTimeIsSecondsWithMilliseconds) {
  HttpTarget t = make_target(HttpTarget::Kind::kSplunkHec, "");
  t.sourcetype = "";
  const std::vector<OutRecord> records = {record(5, "{}"), record(1700000000000, "{}"),
                                          record(1700000000999, "{}")};
  EXPECT_EQ(hec_body(t, records),
            "{\"time\":0.005,\"event\":{}}\n"
            "{\"time\":1700000000.000,\"event\":{}}\n"
            "{\"time\":1700000000.999,\"event\":{}}");
}

TEST(HttpBodies, HecConfigurationValuesAreEscaped) {
  HttpTarget t = make_target(HttpTarget::Kind::kSplunkHec, "");
  t.index = "main";
  t.host_field = "node\"a\\";
  EXPECT_EQ(
      hec_body(t, std::vector<OutRecord>{record(1000, "{\"a\":1}")}),
      R"({"time":1.000,"host":"node\"a\\","sourcetype":"ocsf","index":"main","event":{"a":1}})");
}

TEST(HttpBodies, BulkKeepsOneDocumentALine) {
  // A pretty-printed payload would split into several NDJSON lines; its newlines are spaces.
  const std::vector<OutRecord> records = {record(1, "{\n  \"a\": \"x\\ny\"\r\n}")};
  EXPECT_EQ(elastic_bulk_body("idx", records),
            "{\"create\":{\"_index\":\"idx\"}}\n{   \"a\": \"x\\ny\"  }\n");
}

TEST(HttpBodies, BulkAnswers) {
  EXPECT_TRUE(is(bulk_response_result(R"({"took":1,"errors":false,"items":[]})", 0), Kind::kSent));
  EXPECT_TRUE(is(bulk_response_result("<html>proxy</html>", 1), Kind::kRetry));
  EXPECT_TRUE(is(bulk_response_result(R"({"took":1})", 1), Kind::kRetry));
  EXPECT_TRUE(is(bulk_response_result(R"({"errors":true})", 1), Kind::kRetry));
  // Fewer items than records: the missing ones' fate is unknown.
  EXPECT_TRUE(
      is(bulk_response_result(
             R"({"errors":true,"items":[{"create":{"status":400,"error":{"type":"x"}}}]})", 2),
         Kind::kRetry));
  const SendResult conflict = bulk_response_result(
      R"({"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409,
         "error":{"type":"version_conflict_engine_exception","reason":"exists"}}}]})",
      2);
  EXPECT_TRUE(is(conflict, Kind::kSent));
}

// ---- Splunk HEC

TEST_F(HttpTransportTest, HecRequestShapeTokenAndPayloadVerbatim) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kSplunkHec, "Splunk hec-token-1");
  HttpTarget t = target(HttpTarget::Kind::kSplunkHec, "hec-token-1");
  t.host_field = "node-a";
  t.index = "llm";
  t.gzip = false;
  HttpTransport transport(t);
  const auto records = sample_records(3);
  ASSERT_TRUE(is(transport.send(records), Kind::kSent));

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/services/collector/event");
  EXPECT_EQ(request.header("Authorization"), "Splunk hec-token-1");
  EXPECT_EQ(request.header("Content-Type"), "application/json");
  EXPECT_FALSE(request.header("Content-Encoding"));
  EXPECT_FALSE(request.header("Expect"));
  std::string expected;
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0) expected += '\n';
    expected += "{\"time\":1700000000." + std::to_string(123 + i) +
                ",\"host\":\"node-a\",\"sourcetype\":\"ocsf\",\"index\":\"llm\",\"event\":" +
                records[i].payload + "}";
  }
  EXPECT_EQ(request.body, expected);
  EXPECT_EQ(request.records, 3u);
  EXPECT_EQ(receiver.records(), 3u);
}

TEST_F(HttpTransportTest, GzipOnAndOffDeliverTheSameBody) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kSplunkHec, "Splunk t");
  const auto records = sample_records(200);
  HttpTarget t = target(HttpTarget::Kind::kSplunkHec, "t");
  t.gzip = true;
  ASSERT_TRUE(is(HttpTransport(t).send(records), Kind::kSent));
  t.gzip = false;
  ASSERT_TRUE(is(HttpTransport(t).send(records), Kind::kSent));

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].header("Content-Encoding"), "gzip");
  EXPECT_LT(requests[0].wire_bytes * 4, requests[0].body.size());  // JSON compresses well
  EXPECT_FALSE(requests[1].header("Content-Encoding"));
  EXPECT_EQ(requests[1].wire_bytes, requests[1].body.size());
  EXPECT_EQ(requests[0].body, requests[1].body);
  EXPECT_EQ(receiver.records(), 400u);
}

TEST_F(HttpTransportTest, OneRequestABatchOverOneKeptAliveConnection) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kSplunkHec, "Splunk t");
  HttpTransport transport(target(HttpTarget::Kind::kSplunkHec, "t"));
  constexpr size_t kSends = 5;
  for (size_t i = 0; i < kSends; ++i) {
    ASSERT_TRUE(is(transport.send(sample_records(100)), Kind::kSent));
  }
  EXPECT_TRUE(receiver.wait_for_records(kSends * 100, kWait));
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), kSends);
  for (const auto& request : requests) {
    EXPECT_EQ(request.records, 100u);
    EXPECT_EQ(request.connection, 1u);
  }
  EXPECT_EQ(receiver.accepted_connections(), 1u);
}

TEST_F(HttpTransportTest, EmptyBatchSendsNothing) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kSplunkHec, "Splunk t");
  HttpTransport transport(target(HttpTarget::Kind::kSplunkHec, "t"));
  EXPECT_TRUE(is(transport.send({}), Kind::kSent));
  EXPECT_EQ(receiver.request_count(), 0u);
}

// ---- Elasticsearch bulk

TEST_F(HttpTransportTest, BulkNdjsonShapeIndexAndApiKey) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kElasticBulk, "ApiKey a2V5");
  HttpTarget t = target(HttpTarget::Kind::kElasticBulk, "a2V5");
  t.index = "logs-llmtap-default";
  HttpTransport transport(t);
  const auto records = sample_records(3);
  ASSERT_TRUE(is(transport.send(records), Kind::kSent));

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/_bulk");
  EXPECT_EQ(requests[0].header("Content-Type"), "application/x-ndjson");
  EXPECT_EQ(requests[0].header("Content-Encoding"), "gzip");
  std::string expected;
  for (const auto& r : records) {
    expected += "{\"create\":{\"_index\":\"logs-llmtap-default\"}}\n" + r.payload + "\n";
  }
  EXPECT_EQ(requests[0].body, expected);
  EXPECT_EQ(receiver.records(), 3u);
}

TEST_F(HttpTransportTest, BulkDefaultIndexAndBasicAuth) {
  CollectorReceiver& receiver =
      start_receiver(CollectorFormat::kElasticBulk, "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==");
  HttpTarget t = target(HttpTarget::Kind::kElasticBulk, "");
  t.username = "elastic";
  t.password = "changeme";
  ASSERT_TRUE(is(HttpTransport(t).send(sample_records(1)), Kind::kSent));
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto action =
      nlohmann::json::parse(requests[0].body.substr(0, requests[0].body.find('\n')));
  EXPECT_EQ(action["create"]["_index"], "llmtap-events");
}

TEST_F(HttpTransportTest, BulkItemRejectedForNowRetriesTheBatch) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kElasticBulk, "ApiKey k");
  receiver.set_bulk_item_status(
      [](size_t index, std::string_view) { return index == 1 ? 429 : 201; });
  HttpTransport transport(target(HttpTarget::Kind::kElasticBulk, "k"));
  const SendResult result = transport.send(sample_records(3));
  EXPECT_TRUE(is(result, Kind::kRetry));
  EXPECT_NE(result.error.find("1 of 3"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("429"), std::string::npos) << result.error;

  // A 429 among mapping errors still retries: the 429 item may go through next time.
  receiver.set_bulk_item_status(
      [](size_t index, std::string_view) { return index == 0 ? 400 : 503; });
  EXPECT_TRUE(is(transport.send(sample_records(3)), Kind::kRetry));
}

TEST_F(HttpTransportTest, BulkMappingErrorsOnlyReject) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kElasticBulk, "ApiKey k");
  receiver.set_bulk_item_status(
      [](size_t index, std::string_view) { return index % 2 == 0 ? 400 : 201; });
  HttpTransport transport(target(HttpTarget::Kind::kElasticBulk, "k"));
  const SendResult result = transport.send(sample_records(3));
  EXPECT_TRUE(is(result, Kind::kReject));
  EXPECT_NE(result.error.find("2 of 3"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("mapper_parsing_exception"), std::string::npos) << result.error;
  // Elasticsearch quotes the offending value: event content stays out of logs.
  EXPECT_EQ(result.error.find("not-a-date"), std::string::npos) << result.error;
}

TEST_F(HttpTransportTest, BulkConflictCountsAsDelivered) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kElasticBulk, "ApiKey k");
  receiver.set_bulk_item_status(
      [](size_t index, std::string_view) { return index == 0 ? 409 : 201; });
  HttpTransport transport(target(HttpTarget::Kind::kElasticBulk, "k"));
  EXPECT_TRUE(is(transport.send(sample_records(2)), Kind::kSent));
}

// ---- Webhook

TEST_F(HttpTransportTest, WebhookArrayBearerAndExtraHeaders) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kWebhook, "Bearer hook-token");
  HttpTarget t = target(HttpTarget::Kind::kWebhook, "hook-token");
  t.url += "/ingest/llmtap?source=node-a";
  t.headers = {{"X-Tenant", "blue"}};
  HttpTransport transport(t);
  const auto records = sample_records(3);
  ASSERT_TRUE(is(transport.send(records), Kind::kSent));

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/ingest/llmtap?source=node-a");
  EXPECT_EQ(requests[0].header("Content-Type"), "application/json");
  EXPECT_EQ(requests[0].header("X-Tenant"), "blue");
  EXPECT_EQ(requests[0].body,
            "[" + records[0].payload + "," + records[1].payload + "," + records[2].payload + "]");
  EXPECT_EQ(receiver.records(), 3u);
}

TEST_F(HttpTransportTest, WebhookWithoutTokenSendsNoAuthorization) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kWebhook, "");
  ASSERT_TRUE(is(HttpTransport(target(HttpTarget::Kind::kWebhook, "")).send(sample_records(1)),
                 Kind::kSent));
  EXPECT_FALSE(receiver.requests().at(0).header("Authorization"));
}

// ---- Which answers retry and which reject

TEST_F(HttpTransportTest, UnavailableTwiceThenDelivered) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kSplunkHec, "Splunk t");
  receiver.queue_statuses({503, 503});
  HttpTransport transport(target(HttpTarget::Kind::kSplunkHec, "t"));
  const SendResult first = transport.send(sample_records(2));
  EXPECT_TRUE(is(first, Kind::kRetry));
  EXPECT_EQ(first.error.rfind("HTTP 503", 0), 0u) << first.error;
  EXPECT_TRUE(is(transport.send(sample_records(2)), Kind::kRetry));
  EXPECT_TRUE(is(transport.send(sample_records(2)), Kind::kSent));
  EXPECT_EQ(receiver.records(), 2u);
}

TEST_F(HttpTransportTest, RetryableStatuses) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kWebhook, "");
  HttpTransport transport(target(HttpTarget::Kind::kWebhook, ""));
  for (const int status : {408, 429, 500, 502, 503, 504}) {
    receiver.queue_statuses({status});
    const SendResult result = transport.send(sample_records(1));
    EXPECT_TRUE(is(result, Kind::kRetry)) << status;
    EXPECT_EQ(result.error.rfind("HTTP " + std::to_string(status), 0), 0u) << result.error;
  }
  // A redirect is never followed (the batch and its token would go elsewhere), nor dropped.
  receiver.queue_answers({{.status = 301, .body = ""}});
  const SendResult redirect = transport.send(sample_records(1));
  EXPECT_TRUE(is(redirect, Kind::kRetry));
  EXPECT_EQ(receiver.accepted_connections(), 1u);
}

TEST_F(HttpTransportTest, ClientErrorsReject) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kSplunkHec, "Splunk t");
  HttpTransport transport(target(HttpTarget::Kind::kSplunkHec, "t"));
  receiver.queue_answers({{.status = 400, .body = R"({"text":"Invalid data format","code":6})"}});
  SendResult result = transport.send(sample_records(1));
  EXPECT_TRUE(is(result, Kind::kReject));
  EXPECT_EQ(result.error, "HTTP 400: Invalid data format");

  receiver.queue_answers({{.status = 403, .body = R"({"text":"Invalid token","code":4})"}});
  result = transport.send(sample_records(1));
  EXPECT_TRUE(is(result, Kind::kReject));
  EXPECT_EQ(result.error, "HTTP 403: Invalid token");

  receiver.set_authorization("Splunk another-token");
  result = transport.send(sample_records(1));
  EXPECT_TRUE(is(result, Kind::kReject));
  EXPECT_EQ(result.error, "HTTP 401: Invalid authorization");

  EXPECT_EQ(receiver.records(), 0u);
}

TEST_F(HttpTransportTest, RejectReasonIsShortAndNeverCarriesTheToken) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kWebhook, "");
  const std::string token = "tok-0123456789abcdef";
  // A collector that echoes the request back, token and all, at length.
  const std::string echo =
      "bad request: Authorization: Bearer " + token + "\r\n" + std::string(1000, 'x');
  receiver.queue_answers({{.status = 422, .body = echo}});
  HttpTransport transport(target(HttpTarget::Kind::kWebhook, token));
  const SendResult result = transport.send(sample_records(1));
  EXPECT_TRUE(is(result, Kind::kReject));
  EXPECT_EQ(result.error.find(token), std::string::npos) << result.error;
  EXPECT_EQ(result.error.find('\r'), std::string::npos);
  EXPECT_LE(result.error.size(), std::string("HTTP 422: ").size() + 200);
  EXPECT_EQ(result.error.rfind("HTTP 422: bad request: Authorization: Bearer [redacted] xxx", 0),
            0u)
      << result.error;
}

TEST_F(HttpTransportTest, OutageRetriesThenDeliversOnTheSamePort) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kSplunkHec, "Splunk t");
  HttpTransport transport(target(HttpTarget::Kind::kSplunkHec, "t"));
  ASSERT_TRUE(is(transport.send(sample_records(1)), Kind::kSent));  // a kept-alive connection

  receiver.stop();
  const SendResult down = transport.send(sample_records(1));
  EXPECT_TRUE(is(down, Kind::kRetry));
  EXPECT_FALSE(down.error.empty());
  EXPECT_TRUE(is(transport.send(sample_records(1)), Kind::kRetry));  // refused now

  receiver.start();
  EXPECT_TRUE(is(transport.send(sample_records(1)), Kind::kSent));
  EXPECT_EQ(receiver.records(), 2u);
  EXPECT_EQ(receiver.accepted_connections(), 2u);
}

TEST_F(HttpTransportTest, SilentCollectorTimesOutAsRetry) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kSplunkHec, "Splunk t");
  receiver.set_silent(true);
  HttpTarget t = target(HttpTarget::Kind::kSplunkHec, "t");
  t.timeout = 700ms;
  HttpTransport transport(t);
  const auto started = std::chrono::steady_clock::now();
  const SendResult result = transport.send(sample_records(1));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(is(result, Kind::kRetry));
  EXPECT_NE(result.error.find("timed out"), std::string::npos) << result.error;
  EXPECT_GE(took, 600ms);
  EXPECT_LT(took, 3s);
  EXPECT_EQ(receiver.request_count(), 1u);  // it did arrive; its answer did not
}

// ---- Credentials and trust

TEST_F(HttpTransportTest, TokenFileIsReadAgainForEachRequest) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kSplunkHec, "Splunk tok-1");
  HttpTarget t = target(HttpTarget::Kind::kSplunkHec, "ignored-when-a-file-is-set");
  t.token_file = (dir_ / "hec-token").string();
  HttpTransport transport(t);

  // No file yet: nothing to authenticate with, the records wait.
  SendResult result = transport.send(sample_records(1));
  EXPECT_TRUE(is(result, Kind::kRetry));
  EXPECT_NE(result.error.find("token_file"), std::string::npos) << result.error;
  EXPECT_EQ(receiver.request_count(), 0u);

  write_file("hec-token", "tok-1\n");
  ASSERT_TRUE(is(transport.send(sample_records(1)), Kind::kSent));
  write_file("hec-token", "tok-2\n");
  receiver.set_authorization("Splunk tok-2");
  ASSERT_TRUE(is(transport.send(sample_records(1)), Kind::kSent));
  // Mid-rotation the file can be gone for a moment: the last token goes on working.
  fs::remove(dir_ / "hec-token");
  ASSERT_TRUE(is(transport.send(sample_records(1)), Kind::kSent));

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].header("Authorization"), "Splunk tok-1");
  EXPECT_EQ(requests[1].header("Authorization"), "Splunk tok-2");
  EXPECT_EQ(requests[2].header("Authorization"), "Splunk tok-2");
}

TEST_F(HttpTransportTest, UntrustedCertificateRetriesWithAClearError) {
  CollectorReceiver& receiver = start_receiver(CollectorFormat::kWebhook, "");
  const std::string other_ca = (dir_ / "other.crt").string();
  testing::write_self_signed_certificate(other_ca, (dir_ / "other.key").string());
  HttpTarget t = target(HttpTarget::Kind::kWebhook, "");
  t.ca_file = other_ca;
  const SendResult result = HttpTransport(t).send(sample_records(1));
  EXPECT_TRUE(is(result, Kind::kRetry));
  EXPECT_NE(result.error.find("failed verification"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find(other_ca), std::string::npos) << result.error;

  t.ca_file = (dir_ / "missing.pem").string();
  const SendResult missing = HttpTransport(t).send(sample_records(1));
  EXPECT_TRUE(is(missing, Kind::kRetry));
  EXPECT_NE(missing.error.find("missing.pem"), std::string::npos) << missing.error;
  EXPECT_EQ(receiver.request_count(), 0u);

  t.ca_file = "";
  t.insecure_skip_verify = true;
  EXPECT_TRUE(is(HttpTransport(t).send(sample_records(1)), Kind::kSent));
}

TEST_F(HttpTransportTest, DescribeCarriesNoToken) {
  start_receiver(CollectorFormat::kSplunkHec, "Splunk t");
  HttpTarget t = target(HttpTarget::Kind::kSplunkHec, "very-secret-hec-token");
  const HttpTransport transport(t);
  EXPECT_EQ(transport.describe(),
            "splunk-hec https://127.0.0.1:" + std::to_string(receiver_->port()));
  EXPECT_EQ(transport.describe().find("very-secret"), std::string::npos);
}

}  // namespace
}  // namespace llmtap::exporter
