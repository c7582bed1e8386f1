#include "corpus_wire.h"
#include "fake_kube_api_server.h"

#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "fake_kube_pod_store.h"
#include "http_request_reader.h"
#include "openssl_handles.h"
#include "tls_listener.h"

namespace llmtap::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
// For what the apiserver writes in a fixed key order (Status, watch events); pods are plain json.
using OrderedJson = nlohmann::ordered_json;
using fake_kube::FieldRequirement;
using fake_kube::FieldSelector;
using fake_kube::pod_field;
using fake_kube::PodStore;
using fake_kube::status_object;
using fake_kube::watch_line;
using fake_kube::WatchCursor;
using fake_kube::WatchStart;
using fake_kube::WatchWake;

constexpr size_t kReadChunkBytes = size_t{16} * 1024;
// How often an idle watch checks whether its client went away.
constexpr auto kPeerCheckInterval = 50ms;
// How long a server-initiated close waits for the peer's FIN before closing anyway.
constexpr auto kLingerTimeout = 500ms;

// ---- Requests

// A client error reported as a 400 Status, as the apiserver does for bad query parameters.
struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      unsigned value = 0;
      const char* first = text.data() + i + 1;
      const char* last = text.data() + std::min(i + 3, text.size());
      const auto [end, ec] = std::from_chars(first, last, value, 16);
      if (last - first != 2 || ec != std::errc() || end != last) {
        throw BadRequest("invalid URL escape in query");
      }
      out += static_cast<char>(value);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Query parameters; the first occurrence of a name wins, as with Go's url.Values.Get.
std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    params.emplace(percent_decode(pair.substr(0, eq)),
                   eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1)));
  }
  return params;
}

// Go's strconv.ParseBool, which the apiserver uses for `watch` and `allowWatchBookmarks`.
bool parse_bool(const std::string& name, const std::string& value) {
  if (value.empty()) return false;
  for (const char* yes : {"1", "t", "T", "true", "TRUE", "True"}) {
    if (value == yes) return true;
  }
  for (const char* no : {"0", "f", "F", "false", "FALSE", "False"}) {
    if (value == no) return false;
  }
  throw BadRequest(name + ": invalid boolean value \"" + value + "\"");
}

uint64_t parse_unsigned(const std::string& name, const std::string& value) {
  uint64_t number = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
    throw BadRequest(name + ": invalid value \"" + value + "\"");
  }
  return number;
}

FieldSelector parse_field_selector(std::string_view text) {
  FieldSelector selector;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view term = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    FieldRequirement requirement;
    size_t op_at = term.find("!=");
    size_t op_size = 2;
    if (op_at != std::string_view::npos) {
      requirement.equal = false;
    } else if ((op_at = term.find("==")) == std::string_view::npos) {
      op_at = term.find('=');
      op_size = 1;
    }
    if (op_at == std::string_view::npos) {
      throw BadRequest("invalid field selector: '" + std::string(term) + "'");
    }
    requirement.field = term.substr(0, op_at);
    requirement.value = term.substr(op_at + op_size);
    if (pod_field(FakePod{}, requirement.field) == nullptr) {
      throw BadRequest("field label not supported: " + requirement.field);
    }
    selector.push_back(std::move(requirement));
  }
  return selector;
}

// What a GET on a pod collection asks for.
struct PodQuery {
  FieldSelector selector;  // including the namespace of a namespaced path
  bool watch = false;
  std::optional<uint64_t> resource_version;  // unset for "" and "0": start from now
  bool bookmarks = false;
  std::optional<std::chrono::seconds> timeout;
};

// The pod query of a target on /api/v1/pods or /api/v1/namespaces/<ns>/pods; nullopt for
// any other path. Throws BadRequest for bad parameters.
std::optional<PodQuery> parse_pod_query(std::string_view target) {
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  PodQuery query;
  constexpr std::string_view kNamespaces = "/api/v1/namespaces/";
  constexpr std::string_view kPods = "/pods";
  if (path.starts_with(kNamespaces) && path.ends_with(kPods) &&
      path.size() > kNamespaces.size() + kPods.size()) {
    const std::string_view ns =
        path.substr(kNamespaces.size(), path.size() - kNamespaces.size() - kPods.size());
    if (ns.find('/') != std::string_view::npos) return std::nullopt;
    query.selector.push_back(
        {.field = "metadata.namespace", .equal = true, .value = std::string(ns)});
  } else if (path != "/api/v1/pods") {
    return std::nullopt;
  }
  if (question == std::string_view::npos) return query;
  const auto params = parse_query(target.substr(question + 1));
  const auto get = [&](const std::string& name) -> std::string {
    const auto it = params.find(name);
    return it == params.end() ? "" : it->second;
  };
  const FieldSelector fields = parse_field_selector(get("fieldSelector"));
  query.selector.insert(query.selector.end(), fields.begin(), fields.end());
  query.watch = parse_bool("watch", get("watch"));
  query.bookmarks = parse_bool("allowWatchBookmarks", get("allowWatchBookmarks"));
  if (const std::string rv = get("resourceVersion"); !rv.empty() && rv != "0") {
    try {
      query.resource_version = parse_unsigned("resourceVersion", rv);
    } catch (const BadRequest&) {
      throw BadRequest("invalid resource version: " + rv);
    }
  }
  if (const std::string timeout = get("timeoutSeconds"); !timeout.empty()) {
    const uint64_t seconds = parse_unsigned("timeoutSeconds", timeout);
    if (seconds > 0) query.timeout = std::chrono::seconds(seconds);
  }
  return query;
}

// The current bearer token and what the server has seen, for assertions.
class RequestLedger {
 public:
  explicit RequestLedger(std::string token) { set_token(std::move(token)); }

  void set_token(std::string token) {
    if (token.empty()) throw std::runtime_error("FakeKubeApiServer: the token must not be empty");
    const std::lock_guard lock(mutex_);
    token_ = std::move(token);
  }

  // Records the target and whether `authorization` carries the current token.
  bool admit(const std::string& target, std::optional<std::string_view> authorization) {
    const std::lock_guard lock(mutex_);
    targets_.push_back(target);
    bool ok = false;
    if (authorization && authorization->size() > 7) {
      std::string scheme(authorization->substr(0, 7));
      std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      std::string_view credential = authorization->substr(7);
      while (!credential.empty() && credential.back() == ' ') credential.remove_suffix(1);
      ok = scheme == "bearer " && credential == token_;
    }
    if (!ok) ++unauthorized_;
    return ok;
  }

  std::atomic<size_t> lists{0};
  std::atomic<size_t> watches{0};
  std::atomic<size_t> gone{0};

  size_t unauthorized() const {
    const std::lock_guard lock(mutex_);
    return unauthorized_;
  }
  std::vector<std::string> targets() const {
    const std::lock_guard lock(mutex_);
    return targets_;
  }

 private:
  mutable std::mutex mutex_;
  std::string token_;
  std::vector<std::string> targets_;
  size_t unauthorized_ = 0;
};

// ---- HTTP


std::string json_response(int code, const std::string& text, bool close) {
  return "HTTP/1.1 " + std::to_string(code) + " " + http_reason_phrase(code) +
         "\r\nCache-Control: no-cache, private\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(text.size()) + "\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n" +
         text;
}

std::string status_response(int code, std::string_view reason, std::string_view message,
                            bool close) {
  return json_response(code, status_object(code, reason, message).dump(), close);
}

std::string chunk(std::string_view data) {
  std::array<char, 16> size{};
  auto* const end = std::to_chars(size.data(), size.data() + size.size(), data.size(), 16).ptr;
  return std::string(size.data(), end) + "\r\n" + std::string(data) + "\r\n";
}

constexpr std::string_view kLastChunk = "0\r\n\r\n";

struct ServerContext {
  PodStore store;
  RequestLedger ledger;
  std::chrono::milliseconds bookmark_interval;
};

// Serves one accepted connection: TLS handshake, then requests until it ends.
class KubeConnection {
 public:
  KubeConnection(ServerContext& context, SSL_CTX* ctx, int fd)
      : context_(context), fd_(fd), ssl_(SSL_new(ctx)) {}

  void run() {
    if (ssl_ && SSL_set_fd(ssl_.get(), fd_) == 1 && SSL_accept(ssl_.get()) == 1) {
      serve_requests();
    }
    ::shutdown(fd_, SHUT_RDWR);  // the descriptor is closed by the owner after joining
  }

 private:
  // kClose ends the connection gracefully, kDrop at once (write failed or server stopping).
  enum class Next { kKeepAlive, kClose, kDrop };

  void serve_requests() {
    Next next = Next::kDrop;  // after the connection ends or fails: just return
    read_http_requests(ssl_.get(), kReadChunkBytes,
                       [&](HttpRequestReader::Result result, const HttpRequest& request,
                           const std::string& error) {
                         if (result == HttpRequestReader::Result::kMalformed) {
                           write_all(status_response(400, "BadRequest", error, true));
                           next = Next::kClose;
                         } else {
                           next = handle(request);
                         }
                         return next == Next::kKeepAlive;
                       });
    if (next == Next::kClose) close_gracefully();
  }

  Next handle(const HttpRequest& request) {
    const bool close = request.wants_close();
    const Next after = close ? Next::kClose : Next::kKeepAlive;
    if (!context_.ledger.admit(request.target, request.header("Authorization"))) {
      return send(status_response(401, "Unauthorized", "Unauthorized", close), after);
    }
    std::optional<PodQuery> query;
    try {
      query = parse_pod_query(request.target);
    } catch (const BadRequest& e) {
      return send(status_response(400, "BadRequest", e.what(), close), after);
    }
    if (!query) {
      return send(status_response(404, "NotFound",
                                  "the server could not find the requested resource", close),
                  after);
    }
    if (request.method != "GET") {
      return send(
          status_response(405, "MethodNotAllowed",
                          "the server does not allow this method on the requested resource", close),
          after);
    }
    if (query->watch) return serve_watch(*query, after);
    ++context_.ledger.lists;
    return send(json_response(200, context_.store.list(query->selector).dump(), close), after);
  }

  Next send(std::string_view bytes, Next after) { return write_all(bytes) ? after : Next::kDrop; }

  Next serve_watch(const PodQuery& query, Next after) {
    ++context_.ledger.watches;
    WatchStart start = context_.store.start_watch(query.selector, query.resource_version);
    if (start.expired) ++context_.ledger.gone;
    const WatchRegistration registration(context_.store, !start.expired);
    std::string head =
        "HTTP/1.1 200 OK\r\nCache-Control: no-cache, private\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n";
    head += after == Next::kClose ? "Connection: close\r\n\r\n" : "\r\n";
    if (!write_all(head) || !write_lines(start.lines)) return Next::kDrop;
    if (start.expired) return send(kLastChunk, after);

    WatchCursor& cursor = start.cursor;
    const auto deadline = query.timeout ? Clock::now() + *query.timeout : Clock::time_point::max();
    auto last_sent = Clock::now();
    for (;;) {
      auto wake_at = std::min(deadline, Clock::now() + kPeerCheckInterval);
      if (query.bookmarks) wake_at = std::min(wake_at, last_sent + context_.bookmark_interval);
      const WatchWake wake = context_.store.wait(cursor, wake_at);
      if (wake.stopping) return Next::kDrop;
      if (wake.end_stream) break;
      if (!write_lines(wake.lines)) return Next::kDrop;
      const auto now = Clock::now();
      if (!wake.lines.empty()) last_sent = now;
      if (now >= deadline) break;
      if (query.bookmarks && now - last_sent >= context_.bookmark_interval) {
        const OrderedJson bookmark = {
            {"kind", "Pod"},
            {"apiVersion", "v1"},
            {"metadata", {{"resourceVersion", std::to_string(cursor.resource_version)}}}};
        if (!write_all(chunk(watch_line("BOOKMARK", bookmark)))) return Next::kDrop;
        last_sent = now;
      }
      if (peer_gone()) return Next::kDrop;
    }
    return send(kLastChunk, after);
  }

  // Keeps a watch counted as open while its stream is served.
  class WatchRegistration {
   public:
    WatchRegistration(PodStore& store, bool active) : store_(store), active_(active) {}
    WatchRegistration(const WatchRegistration&) = delete;
    WatchRegistration& operator=(const WatchRegistration&) = delete;
    ~WatchRegistration() {
      if (active_) store_.end_watch();
    }

   private:
    PodStore& store_;
    const bool active_;
  };

  bool write_lines(const std::vector<std::string>& lines) {
    return std::all_of(lines.begin(), lines.end(),
                       [this](const std::string& line) { return write_all(chunk(line)); });
  }

  bool write_all(std::string_view bytes) { return ssl_write_all(ssl_.get(), bytes); }

  // Whether the client closed its side while we only write (a watch reads nothing).
  bool peer_gone() const {
    pollfd pfd{.fd = fd_, .events = POLLRDHUP, .revents = 0};
    return ::poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  }

  // close_notify and FIN first, then wait briefly for the peer's close, so unread input
  // does not turn our close into a RST that could destroy the last response in flight.
  void close_gracefully() {
    SSL_shutdown(ssl_.get());
    ::shutdown(fd_, SHUT_WR);
    discard_input_until_peer_closes(fd_, kLingerTimeout);
  }

  ServerContext& context_;
  const int fd_;
  const SslPtr ssl_;
};

}  // namespace

struct FakeKubeApiServer::State {
  explicit State(FakeKubeApiOptions options)
      : context{.store = {},
                .ledger = RequestLedger(std::move(options.token)),
                .bookmark_interval = options.bookmark_interval},
        ctx(make_server_context(options.cert_file, options.key_file)),
        acceptor(listen_tcp(options.bind_address, options.port),
                 [this](int fd, const sockaddr_storage& /*peer*/, socklen_t /*length*/) {
                   return ConnectionAcceptor::Handler{
                       .serve = [this, fd] { KubeConnection(context, ctx.get(), fd).run(); },
                       .dropped = {}};
                 }) {}

  State(const State&) = delete;
  State& operator=(const State&) = delete;
  // Open watches end via the store's stop(); the acceptor's stop() unblocks the connection
  // threads in SSL_accept/SSL_read/SSL_write and joins them.
  ~State() {
    context.store.stop();
    acceptor.stop();
  }

  ServerContext context;
  SslCtxPtr ctx;
  ConnectionAcceptor acceptor;  // last: its threads use the members above
};

FakeKubeApiServer::FakeKubeApiServer(FakeKubeApiOptions options)
    : state_(std::make_unique<State>(std::move(options))) {}

FakeKubeApiServer::~FakeKubeApiServer() = default;

uint16_t FakeKubeApiServer::port() const { return state_->acceptor.port(); }

std::string FakeKubeApiServer::resource_version() const {
  return std::to_string(state_->context.store.resource_version());
}

void FakeKubeApiServer::set_token(std::string token) {
  state_->context.ledger.set_token(std::move(token));
}

void FakeKubeApiServer::add_pod(FakePod pod) { state_->context.store.put(std::move(pod)); }

void FakeKubeApiServer::update_pod(FakePod pod) { state_->context.store.put(std::move(pod)); }

void FakeKubeApiServer::delete_pod(const std::string& namespace_name, const std::string& name) {
  state_->context.store.remove(namespace_name, name);
}

void FakeKubeApiServer::compact() { state_->context.store.compact(); }

void FakeKubeApiServer::close_watches() { state_->context.store.close_watches(); }

bool FakeKubeApiServer::wait_for_open_watches(size_t count,
                                              std::chrono::milliseconds timeout) const {
  return state_->context.store.wait_for_open_watches(count, timeout);
}

size_t FakeKubeApiServer::open_watches() const { return state_->context.store.open_watches(); }

size_t FakeKubeApiServer::list_requests() const { return state_->context.ledger.lists; }

size_t FakeKubeApiServer::watch_requests() const { return state_->context.ledger.watches; }

size_t FakeKubeApiServer::unauthorized_requests() const {
  return state_->context.ledger.unauthorized();
}

size_t FakeKubeApiServer::gone_responses() const { return state_->context.ledger.gone; }

std::vector<std::string> FakeKubeApiServer::request_targets() const {
  return state_->context.ledger.targets();
}

}  // namespace llmtap::testing
