#include "corpus_wire.h"
#include "collector_receiver.h"

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "openssl_handles.h"
#include "tls_listener.h"

namespace llmtap::testing {
namespace {

using namespace std::chrono_literals;
using OrderedJson = nlohmann::ordered_json;

constexpr size_t kReadChunkBytes = size_t{64} * 1024;
// How long a server-initiated close waits for the peer's FIN before closing anyway.
constexpr auto kLingerTimeout = 500ms;

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}


// A format-shaped error body, as the real collector would send one.
std::string error_body(CollectorFormat format, int status, std::string_view reason) {
  switch (format) {
    case CollectorFormat::kSplunkHec:
      return OrderedJson{{"text", reason}, {"code", status == 503 ? 9 : 6}}.dump();
    case CollectorFormat::kElasticBulk:
      return OrderedJson{
          {"error",
           {{"type", status == 429 ? "es_rejected_execution_exception" : "status_exception"},
            {"reason", reason}}},
          {"status", status}}
          .dump();
    case CollectorFormat::kWebhook:
      return OrderedJson{{"message", reason}}.dump();
  }
  return "{}";
}

// What Elasticsearch says about an item that failed with `status`.
OrderedJson bulk_item_error(int status) {
  if (status == 429) {
    return {{"type", "es_rejected_execution_exception"},
            {"reason", "rejected execution of coordinating operation"}};
  }
  if (status == 409) {
    return {{"type", "version_conflict_engine_exception"},
            {"reason", "[1]: version conflict, document already exists"}};
  }
  if (status >= 500) {
    return {{"type", "unavailable_shards_exception"}, {"reason", "primary shard is not active"}};
  }
  return {{"type", "mapper_parsing_exception"},
          {"reason",
           "failed to parse field [time] of type [date] in document with id '1'. Preview of "
           "field's value: 'not-a-date'"}};
}

// One bulk item: its action's index and its document line.
struct BulkItem {
  std::string index;
  std::string source;
};

// Splits an NDJSON bulk body into items; nullopt when an action line is malformed.
std::optional<std::vector<BulkItem>> parse_bulk(std::string_view body) {
  std::vector<std::string_view> lines;
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    const std::string_view line = body.substr(0, nl);
    if (!line.empty()) lines.push_back(line);
    if (nl == std::string_view::npos) break;
    body.remove_prefix(nl + 1);
  }
  std::vector<BulkItem> items;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto action = nlohmann::json::parse(lines[i], nullptr, false);
    if (!action.is_object() || action.size() != 1 || !action.begin()->is_object()) {
      return std::nullopt;
    }
    BulkItem item;
    item.index = action.begin()->value("_index", "");
    if (action.begin().key() != "delete") {
      if (++i == lines.size()) return std::nullopt;
      item.source = lines[i];
    }
    items.push_back(std::move(item));
  }
  return items;
}

// Counts HEC event objects (one a line); -1 with `bad_event` set when one is not valid.
long count_hec_events(std::string_view body, size_t& bad_event) {
  long events = 0;
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    const std::string_view line = body.substr(0, nl);
    if (!line.empty()) {
      const auto event = nlohmann::json::parse(line, nullptr, false);
      if (!event.is_object() || !event.contains("event")) {
        bad_event = static_cast<size_t>(events);
        return -1;
      }
      ++events;
    }
    if (nl == std::string_view::npos) break;
    body.remove_prefix(nl + 1);
  }
  return events;
}

bool is_success(int status) { return status >= 200 && status < 300; }

struct Reply {
  int status = 200;
  std::string body;
  size_t accepted = 0;  // records it accepts
};

// Decodes the body into `received` and counts its records (bulk: into `items`); a Reply when
// the request is bad.
std::optional<Reply> inspect(CollectorFormat format, const HttpRequest& request,
                             ReceivedRequest& received, std::vector<BulkItem>& items) {
  const auto bad = [&](int status, std::string body) {
    return Reply{.status = status, .body = std::move(body), .accepted = 0};
  };
  const auto encoding = request.header("Content-Encoding");
  if (encoding && iequals(*encoding, "gzip")) {
    auto plain = gunzip(request.body);
    if (!plain) return bad(400, error_body(format, 400, "invalid gzip body"));
    received.body = std::move(*plain);
  } else if (encoding && !iequals(*encoding, "identity")) {
    return bad(415, error_body(format, 415, "unsupported Content-Encoding"));
  } else {
    received.body = request.body;
  }
  switch (format) {
    case CollectorFormat::kSplunkHec: {
      size_t bad_event = 0;
      const long events = count_hec_events(received.body, bad_event);
      if (events < 0) {
        return bad(400, OrderedJson{{"text", "Invalid data format"},
                                    {"code", 6},
                                    {"invalid-event-number", bad_event}}
                            .dump());
      }
      received.records = static_cast<size_t>(events);
      break;
    }
    case CollectorFormat::kElasticBulk: {
      auto parsed = parse_bulk(received.body);
      if (!parsed) return bad(400, error_body(format, 400, "Malformed action/metadata line"));
      items = std::move(*parsed);
      received.records = items.size();
      break;
    }
    case CollectorFormat::kWebhook: {
      const auto doc = nlohmann::json::parse(received.body, nullptr, false);
      if (!doc.is_array()) return bad(400, error_body(format, 400, "the body is not a JSON array"));
      received.records = doc.size();
      break;
    }
  }
  return std::nullopt;
}

// The format's answer to a good request; bulk items get their status from `item_status`.
Reply success_reply(CollectorFormat format, int status, const ReceivedRequest& received,
                    const std::vector<BulkItem>& items,
                    const CollectorReceiver::BulkItemStatus& item_status) {
  switch (format) {
    case CollectorFormat::kSplunkHec:
      return {
          .status = status, .body = R"({"text":"Success","code":0})", .accepted = received.records};
    case CollectorFormat::kWebhook:
      return {.status = status, .body = R"({"ok":true})", .accepted = received.records};
    case CollectorFormat::kElasticBulk:
      break;
  }
  OrderedJson answer_items = OrderedJson::array();
  bool errors = false;
  size_t accepted = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const int s = item_status ? item_status(i, items[i].source) : 201;
    OrderedJson result = {
        {"_index", items[i].index}, {"_id", std::to_string(i + 1)}, {"status", s}};
    if (is_success(s)) {
      ++accepted;
      result["result"] = "created";
    } else {
      errors = true;
      result["error"] = bulk_item_error(s);
    }
    answer_items.push_back({{"create", std::move(result)}});
  }
  return {.status = status,
          .body = OrderedJson{{"took", 3}, {"errors", errors}, {"items", answer_items}}.dump(),
          .accepted = accepted};
}

std::string http_response(int status, std::string_view body, bool close) {
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " " + http_reason_phrase(status) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n";
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace

std::optional<std::string> gunzip(std::string_view data, size_t limit) {
  if (data.size() > UINT_MAX) return std::nullopt;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return std::nullopt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  std::array<char, size_t{64} * 1024> buffer{};
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer.data());
    zs.avail_out = static_cast<uInt>(buffer.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buffer.data(), buffer.size() - zs.avail_out);
    if (out.size() > limit) rc = Z_MEM_ERROR;  // Z_BUF_ERROR: the input ended too early
  }
  const bool whole = rc == Z_STREAM_END && zs.avail_in == 0;
  inflateEnd(&zs);
  if (!whole) return std::nullopt;
  return out;
}

std::optional<std::string_view> ReceivedRequest::header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

struct CollectorReceiver::State {
  explicit State(CollectorReceiverOptions opts)
      : options(std::move(opts)),
        ctx(make_server_context(options.cert_file, options.key_file)),
        port(options.port),
        authorization(options.authorization) {}

  State(const State&) = delete;
  State& operator=(const State&) = delete;

  void start();
  void stop();
  void serve_connection(int fd, size_t connection);
  // Records `request` and decides its answer; nullopt when stopping (no answer).
  std::optional<Reply> handle(const HttpRequest& request, size_t connection);

  const CollectorReceiverOptions options;
  const SslCtxPtr ctx;

  std::mutex lifecycle;  // serialises start() and stop()
  std::unique_ptr<ConnectionAcceptor> acceptor;
  uint16_t port;

  mutable std::mutex mutex;  // everything below
  mutable std::condition_variable changed;
  std::string authorization;
  std::deque<CannedAnswer> canned;
  BulkItemStatus bulk_status;
  bool silent = false;
  bool stopping = false;
  std::vector<ReceivedRequest> requests;
  size_t records = 0;
  size_t connections = 0;
};

void CollectorReceiver::State::start() {
  const std::lock_guard life(lifecycle);
  if (acceptor) return;
  {
    const std::lock_guard lock(mutex);
    stopping = false;
  }
  acceptor = std::make_unique<ConnectionAcceptor>(
      listen_tcp(options.bind_address, port),
      [this](int fd, const sockaddr_storage& /*peer*/, socklen_t /*length*/) {
        size_t id = 0;
        {
          const std::lock_guard lock(mutex);
          id = ++connections;
        }
        return ConnectionAcceptor::Handler{.serve = [this, fd, id] { serve_connection(fd, id); },
                                           .dropped = {}};
      });
  port = acceptor->port();  // a restart binds the same port
}

void CollectorReceiver::State::stop() {
  const std::lock_guard life(lifecycle);
  if (!acceptor) return;
  {
    const std::lock_guard lock(mutex);
    stopping = true;  // releases silent requests
  }
  changed.notify_all();
  acceptor->stop();  // shuts every connection down and joins its thread
  acceptor.reset();
}

std::optional<Reply> CollectorReceiver::State::handle(const HttpRequest& request,
                                                      size_t connection) {
  ReceivedRequest received{.method = request.method,
                           .target = request.target,
                           .headers = request.headers,
                           .body = {},
                           .wire_bytes = request.body.size(),
                           .connection = connection};
  std::vector<BulkItem> items;
  std::optional<Reply> reply = inspect(options.format, request, received, items);

  // Recorded before any answer, so that a test sees the requests being held.
  std::unique_lock lock(mutex);
  const size_t slot = requests.size();
  requests.push_back(received);
  changed.notify_all();
  changed.wait(lock, [&] { return !silent || stopping; });
  if (stopping) return std::nullopt;
  const auto auth = request.header("Authorization");
  std::optional<CannedAnswer> scripted;
  if (!authorization.empty() && (!auth || *auth != authorization)) {
    reply = Reply{.status = 401,
                  .body = error_body(options.format, 401, "Invalid authorization"),
                  .accepted = 0};
  } else if (!reply && !canned.empty()) {
    scripted = std::move(canned.front());
    canned.pop_front();
  }
  const BulkItemStatus item_status = bulk_status;
  lock.unlock();

  if (!reply && scripted && (!is_success(scripted->status) || !scripted->body.empty())) {
    const int status = scripted->status;
    reply = Reply{.status = status,
                  .body = scripted->body.empty()
                              ? error_body(options.format, status, http_reason_phrase(status))
                              : std::move(scripted->body),
                  .accepted = is_success(status) ? received.records : 0};
  } else if (!reply) {
    reply = success_reply(options.format, scripted ? scripted->status : 200, received, items,
                          item_status);
  }

  lock.lock();
  records += reply->accepted;
  requests[slot].status = reply->status;
  changed.notify_all();
  return reply;
}

void CollectorReceiver::State::serve_connection(int fd, size_t connection) {
  const SslPtr ssl(SSL_new(ctx.get()));
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1 || SSL_accept(ssl.get()) != 1) {
    ::shutdown(fd, SHUT_RDWR);
    return;
  }
  bool close_gracefully = false;
  read_http_requests(
      ssl.get(), kReadChunkBytes,
      [&](HttpRequestReader::Result result, const HttpRequest& request, const std::string& error) {
        std::optional<Reply> reply;
        const bool close = result == HttpRequestReader::Result::kMalformed || request.wants_close();
        if (result == HttpRequestReader::Result::kMalformed) {
          reply =
              Reply{.status = 400, .body = error_body(options.format, 400, error), .accepted = 0};
        } else {
          reply = handle(request, connection);
        }
        if (!reply || !ssl_write_all(ssl.get(), http_response(reply->status, reply->body, close))) {
          return false;  // stopping, or the peer is gone: drop the connection
        }
        close_gracefully = close;
        return !close;
      });
  if (close_gracefully) {
    // close_notify and FIN, then wait for the peer's close: unread input would turn our close
    // into a RST that can destroy the answer in flight.
    SSL_shutdown(ssl.get());
    ::shutdown(fd, SHUT_WR);
    discard_input_until_peer_closes(fd, kLingerTimeout);
  }
  ::shutdown(fd, SHUT_RDWR);  // the descriptor is closed by the acceptor after joining
}

CollectorReceiver::CollectorReceiver(CollectorReceiverOptions options)
    : state_(std::make_unique<State>(std::move(options))) {
  state_->start();
}

CollectorReceiver::~CollectorReceiver() { state_->stop(); }

uint16_t CollectorReceiver::port() const {
  const std::lock_guard life(state_->lifecycle);
  return state_->port;
}

std::string CollectorReceiver::url() const { return "https://127.0.0.1:" + std::to_string(port()); }

void CollectorReceiver::stop() { state_->stop(); }

void CollectorReceiver::start() { state_->start(); }

bool CollectorReceiver::running() const {
  const std::lock_guard life(state_->lifecycle);
  return state_->acceptor != nullptr;
}

void CollectorReceiver::set_authorization(std::string value) {
  const std::lock_guard lock(state_->mutex);
  state_->authorization = std::move(value);
}

void CollectorReceiver::queue_answers(std::vector<CannedAnswer> answers) {
  const std::lock_guard lock(state_->mutex);
  for (CannedAnswer& answer : answers) state_->canned.push_back(std::move(answer));
}

void CollectorReceiver::queue_statuses(const std::vector<int>& statuses) {
  std::vector<CannedAnswer> answers;
  answers.reserve(statuses.size());
  for (const int status : statuses) answers.push_back({.status = status, .body = {}});
  queue_answers(std::move(answers));
}

void CollectorReceiver::set_bulk_item_status(BulkItemStatus status) {
  const std::lock_guard lock(state_->mutex);
  state_->bulk_status = std::move(status);
}

void CollectorReceiver::set_silent(bool silent) {
  {
    const std::lock_guard lock(state_->mutex);
    state_->silent = silent;
  }
  state_->changed.notify_all();
}

std::vector<ReceivedRequest> CollectorReceiver::requests() const {
  const std::lock_guard lock(state_->mutex);
  return state_->requests;
}

size_t CollectorReceiver::request_count() const {
  const std::lock_guard lock(state_->mutex);
  return state_->requests.size();
}

size_t CollectorReceiver::accepted_connections() const {
  const std::lock_guard lock(state_->mutex);
  return state_->connections;
}

size_t CollectorReceiver::records() const {
  const std::lock_guard lock(state_->mutex);
  return state_->records;
}

bool CollectorReceiver::wait_for_records(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return state_->records >= count; });
}

bool CollectorReceiver::wait_for_requests(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return state_->requests.size() >= count; });
}

}  // namespace llmtap::testing
