// A local HTTPS stand-in for SIEM collectors (Splunk HEC, Elasticsearch _bulk, a JSON
// webhook) for HTTP transport tests: records every request, checks the Authorization header
// and answers by a scripted policy, including outages (stop/start) and silence.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_request_reader.h"

namespace llmtap::testing {

// How records are counted and how a successful request is answered.
enum class CollectorFormat {
  kSplunkHec,    // one event object a line; {"text":"Success","code":0}
  kElasticBulk,  // NDJSON action + source lines; {"errors":...,"items":[...]}
  kWebhook,      // a JSON array, one element a record; {"ok":true}
};

struct CollectorReceiverOptions {
  std::string cert_file;  // PEM
  std::string key_file;   // PEM
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;  // 0 = ephemeral; kept across stop()/start()
  CollectorFormat format = CollectorFormat::kWebhook;
  // The exact Authorization value every request must carry (401 otherwise); "" = not checked.
  std::string authorization;
};

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::vector<HttpHeader> headers;
  std::string body;       // decoded: gunzipped when it came with Content-Encoding: gzip
  size_t wire_bytes = 0;  // the body's size as it came
  size_t connection = 0;  // which accepted connection it came on, from 1
  size_t records = 0;     // records in it by the format, whatever the answer
  int status = 0;         // the status answered; 0 = none (silent, or stopped first)

  // Value of the first header named `name` (case-insensitive), if present.
  std::optional<std::string_view> header(std::string_view name) const;
};

// A scripted answer. A 2xx with an empty body gets the format's normal answer (for bulk: the
// items computed as usual); another status with an empty body gets a format-shaped error.
struct CannedAnswer {
  int status = 200;
  std::string body;
};

// HTTP/1.1 keep-alive over TLS 1.2+. One thread accepts, one thread serves each connection.
class CollectorReceiver {
 public:
  // Per-item status of a bulk request: `index` counts items from 0, `source` is the document
  // line. Default: 201 for every item.
  using BulkItemStatus = std::function<int(size_t index, std::string_view source)>;

  // Binds, listens and starts serving. Throws std::runtime_error on failure.
  explicit CollectorReceiver(CollectorReceiverOptions options);
  // stop()
  ~CollectorReceiver();

  CollectorReceiver(const CollectorReceiver&) = delete;
  CollectorReceiver& operator=(const CollectorReceiver&) = delete;

  uint16_t port() const;
  std::string url() const;  // "https://127.0.0.1:<port>"

  // An outage: closes the listening socket and every connection (held requests get no
  // answer). start() listens on the same port again. Both are idempotent.
  void stop();
  void start();
  bool running() const;

  void set_authorization(std::string value);
  // Answers for the next requests (after the authorization check), in order; then the
  // default (200) again. Appends to what is queued.
  void queue_answers(std::vector<CannedAnswer> answers);
  void queue_statuses(const std::vector<int>& statuses);
  void set_bulk_item_status(BulkItemStatus status);
  // While silent, requests are read and recorded but not answered; they wait until the
  // receiver stops (then their connection is dropped) or is made talkative again.
  void set_silent(bool silent);

  std::vector<ReceivedRequest> requests() const;
  size_t request_count() const;
  size_t accepted_connections() const;
  // Records in requests answered 2xx (for bulk: the items answered 2xx).
  size_t records() const;
  // Block until records() (or request_count()) reaches `count` or `timeout` passes.
  bool wait_for_records(size_t count, std::chrono::milliseconds timeout) const;
  bool wait_for_requests(size_t count, std::chrono::milliseconds timeout) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The gzip-decoded `data`, or nullopt when it is not one whole gzip stream (or decodes to more
// than `limit` bytes).
std::optional<std::string> gunzip(std::string_view data, size_t limit = size_t{256} << 20);

}  // namespace llmtap::testing
