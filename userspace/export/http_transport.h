#pragma once
// HTTP delivery to SIEM collectors: Splunk's HTTP Event Collector, Elasticsearch/OpenSearch
// `_bulk`, or a generic JSON webhook. One POST a batch over one reused libcurl handle, so the
// connection (and its TLS session) is kept alive between batches.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "export/transport.h"

namespace llmtap::exporter {

struct HttpTarget {
  enum class Kind { kSplunkHec, kElasticBulk, kWebhook } kind = Kind::kWebhook;
  // http or https. HEC: /services/collector/event is the path unless the URL has one; Elastic:
  // /_bulk is appended to the path unless it ends with it; webhook: used as is. Credentials
  // belong in the fields below, not in the URL (URLs end up in logs).
  std::string url;
  // HEC: "Authorization: Splunk <token>"; Elastic: "ApiKey <token>"; webhook: "Bearer <token>".
  std::string token;
  std::string token_file;          // read again before each request (rotation); wins over token
  std::string username, password;  // HTTP basic auth (Elastic, webhook) when no token is set
  std::string index;  // Elastic index or data stream ("" = "llmtap-events"); HEC: optional
  std::string sourcetype = "ocsf";  // HEC ("" = the token's default)
  std::string host_field;           // HEC "host": the node name ("" = left out)
  bool gzip = true;                 // Content-Encoding: gzip
  std::string ca_file;              // PEM bundle to trust; "" = the system store
  bool insecure_skip_verify = false;
  std::chrono::milliseconds timeout{10000};    // a whole request, connecting included
  std::map<std::string, std::string> headers;  // extra request headers
};

inline constexpr std::string_view kDefaultElasticIndex = "llmtap-events";

// Why `target` cannot work, or "" when it can. Checks the URL (http/https with a host, no
// credentials in it), that HEC has a token, the Elastic index name, the auth combination and
// that extra headers cannot break the request framing or override what the transport sets.
std::string validate(const HttpTarget& target);

// Request bodies, one a batch. Payloads are JSON object texts and go in verbatim.
// HEC: one event object a record, separated by "\n"; `time` is seconds with milliseconds.
std::string hec_body(const HttpTarget& target, std::span<const OutRecord> records);
// Elastic: {"create":{"_index":...}} and the document, each on its own line (NDJSON).
std::string elastic_bulk_body(std::string_view index, std::span<const OutRecord> records);
// Webhook: [p1,p2,...].
std::string webhook_body(std::span<const OutRecord> records);

// The send result for an Elasticsearch bulk answer with HTTP 200: kSent when no item failed
// (409 on create counts as delivered: the document is there), kRetry when an item failed
// with 429 or 5xx or the answer cannot be read, else kReject with the first item's reason.
SendResult bulk_response_result(std::string_view body, size_t records);

class HttpTransport : public Transport {
 public:
  // Throws std::invalid_argument with validate()'s text, std::runtime_error when libcurl
  // cannot make a handle.
  explicit HttpTransport(HttpTarget target);
  ~HttpTransport() override;
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // One request for the whole batch. 2xx: kSent (Elastic: see bulk_response_result);
  // 408, 429, 5xx, 3xx (never followed), connection and TLS errors, timeouts: kRetry;
  // other 4xx: kReject ("HTTP 400: <reason from the answer>"). Not thread-safe: one sender.
  SendResult send(std::span<const OutRecord> records) override;
  // "splunk-hec https://splunk:8088": no credentials, no query, no webhook path (webhook
  // URLs often carry a secret in their path).
  std::string describe() const override { return description_; }
  size_t max_batch_records() const override { return 500; }
  size_t max_batch_bytes() const override { return size_t{4} << 20; }

  // The URL requests go to (with the HEC or bulk path added).
  const std::string& request_url() const { return request_url_; }

 private:
  struct Curl;

  // The token to send now: the token file's content when set (the last good one when the
  // file cannot be read), else the configured token. Empty with `error` set when there is none.
  std::string current_token(std::string& error);

  HttpTarget target_;
  std::string request_url_;
  std::string description_;
  std::string last_file_token_;
  std::unique_ptr<Curl> curl_;
  std::string body_;        // reused between sends: batches are up to 4 MiB
  std::string compressed_;  // likewise
};

}  // namespace llmtap::exporter
