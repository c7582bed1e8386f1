#include "fake_kube_api_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "http_request_reader.h"
#include "openssl_handles.h"

namespace llmtap::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
// For what the apiserver writes in a fixed key order (Status, watch events); pods are plain json.
using OrderedJson = nlohmann::ordered_json;

constexpr size_t kReadChunkBytes = size_t{16} * 1024;
constexpr int kListenBacklog = 128;
// How often an idle watch checks whether its client went away.
constexpr auto kPeerCheckInterval = 50ms;
// How long a server-initiated close waits for the peer's FIN before closing anyway.
constexpr auto kLingerTimeout = 500ms;
constexpr uint64_t kInitialResourceVersion = 1;
constexpr std::string_view kDefaultTimestamp = "2024-01-01T00:00:00Z";

// ---- Sockets and TLS (the same setup as tls_test_server.cpp)

[[noreturn]] void throw_errno(const std::string& context) {
  throw std::system_error(errno, std::generic_category(), context);
}

SslCtxPtr make_server_context(const std::string& cert_file, const std::string& key_file) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) throw_openssl_error("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1) {
    throw_openssl_error("loading TLS certificate '" + cert_file + "'");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw_openssl_error("loading TLS private key '" + key_file + "'");
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    throw_openssl_error("TLS key '" + key_file + "' does not match '" + cert_file + "'");
  }
  return ctx;
}

UniqueFd listen_on(const std::string& address, uint16_t port) {
  const std::string where = address + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found);
      rc != 0) {
    throw std::runtime_error("cannot resolve bind address " + where + ": " + gai_strerror(rc));
  }
  const std::unique_ptr<addrinfo, FreeWith<freeaddrinfo>> addresses(found);
  UniqueFd fd(::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throw_errno("socket() for " + where);
  const int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) {
    throw_errno("SO_REUSEADDR on " + where);
  }
  if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0) throw_errno("bind " + where);
  if (::listen(fd.get(), kListenBacklog) != 0) throw_errno("listen on " + where);
  return fd;
}

uint16_t local_port(int fd) {
  sockaddr_storage local{};
  socklen_t length = sizeof(local);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    throw_errno("getsockname");
  }
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&local);
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&local);
  return ntohs(local.ss_family == AF_INET6 ? v6->sin6_port : v4->sin_port);
}

// Turns writes to a closed peer into EPIPE instead of SIGPIPE, for this thread only.
void block_sigpipe_in_this_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

// ---- Pod objects

std::string utc_now_rfc3339() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::array<char, 32> text{};
  return {text.data(), std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc)};
}

std::string hex(const unsigned char* bytes, size_t size) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xf];
  }
  return out;
}

// A stable fake digest, so the same image always reports the same imageID.
std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw_openssl_error("EVP_Digest");
  }
  return hex(digest.data(), size);
}

std::string random_uid() {  // a version 4 UUID, as the apiserver assigns
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw_openssl_error("RAND_bytes");
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const std::string h = hex(bytes.data(), bytes.size());
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

json container_status(const FakePodContainer& container, const std::string& started_at) {
  json status = {{"name", container.name}, {"image", container.image}, {"imageID", ""},
                 {"ready", false},         {"started", false},         {"restartCount", 0}};
  if (container.container_id.empty()) {
    status["state"] = {{"waiting", {{"reason", "ContainerCreating"}}}};
  } else {
    status["imageID"] = container.image + "@sha256:" + sha256_hex(container.image);
    status["containerID"] = container.container_id;
    status["ready"] = true;
    status["started"] = true;
    status["state"] = {{"running", {{"startedAt", started_at}}}};
  }
  return status;
}

// ---- Requests

OrderedJson status_object(int code, std::string_view reason, std::string_view message) {
  return {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", OrderedJson::object()},
          {"status", "Failure"}, {"message", message}, {"reason", reason},
          {"code", code}};
}

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

// One `field=value`, `field==value` or `field!=value` term of a field selector.
struct FieldRequirement {
  std::string field;
  bool equal = true;
  std::string value;
};
using FieldSelector = std::vector<FieldRequirement>;

// The pod fields the selector may name (a subset of what the apiserver supports for pods).
const std::string* pod_field(const FakePod& pod, std::string_view field) {
  if (field == "spec.nodeName") return &pod.node_name;
  if (field == "metadata.name") return &pod.name;
  if (field == "metadata.namespace") return &pod.namespace_name;
  return nullptr;
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

bool matches(const FieldSelector& selector, const FakePod& pod) {
  return std::all_of(selector.begin(), selector.end(), [&](const FieldRequirement& r) {
    return (*pod_field(pod, r.field) == r.value) == r.equal;
  });
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

// ---- Storage, history and watch fan-out

// One change, as the watch cache keeps it: the pod before and after (nullopt for an add or
// a delete), so each watcher can tell from its own selector which event it sees.
struct PodChange {
  uint64_t resource_version = 0;
  std::optional<FakePod> previous;
  std::optional<FakePod> current;
};

std::string watch_line(std::string_view type, const OrderedJson& object) {
  return OrderedJson{{"type", type}, {"object", object}}.dump() + "\n";
}

// The event a watcher with `selector` sees for `change`, if any: a pod moving into the
// selection is ADDED, one moving out is DELETED (with its last state), like the apiserver's
// cacheWatcher.
std::optional<std::string> watch_line_for(const PodChange& change, const FieldSelector& selector) {
  const std::string rv = std::to_string(change.resource_version);
  const bool now = change.current && matches(selector, *change.current);
  const bool before = change.previous && matches(selector, *change.previous);
  if (now) return watch_line(before ? "MODIFIED" : "ADDED", to_pod_json(*change.current, rv));
  if (before) return watch_line("DELETED", to_pod_json(*change.previous, rv));
  return std::nullopt;
}

// Where one open watch stands: it has seen every change up to `resource_version`.
struct WatchCursor {
  FieldSelector selector;
  uint64_t resource_version = 0;
  uint64_t generation = 0;  // PodStore::watch_generation_ when the watch started
};

struct WatchStart {
  std::vector<std::string> lines;  // synthetic ADDED or replayed events, or the ERROR event
  bool expired = false;            // the stream ends after `lines`
  WatchCursor cursor;
};

struct WatchWake {
  std::vector<std::string> lines;  // events to send now
  bool end_stream = false;         // close_watches() or compact(): finish the response
  bool stopping = false;           // server shutdown: drop the connection
};

class PodStore {
 public:
  void put(FakePod pod) {
    {
      const std::lock_guard lock(mutex_);
      PodChange change{.resource_version = ++resource_version_, .previous = {}, .current = {}};
      const auto it = pods_.find({pod.namespace_name, pod.name});
      if (it != pods_.end()) {
        change.previous = it->second.pod;
        if (pod.uid.empty()) pod.uid = it->second.pod.uid;
        if (pod.creation_timestamp.empty()) {
          pod.creation_timestamp = it->second.pod.creation_timestamp;
        }
      }
      if (pod.uid.empty()) pod.uid = random_uid();
      if (pod.creation_timestamp.empty()) pod.creation_timestamp = utc_now_rfc3339();
      change.current = pod;
      auto key = std::make_pair(pod.namespace_name, pod.name);
      pods_.insert_or_assign(std::move(key), StoredPod{std::move(pod), change.resource_version});
      history_.push_back(std::move(change));
    }
    changed_.notify_all();
  }

  void remove(const std::string& namespace_name, const std::string& name) {
    {
      const std::lock_guard lock(mutex_);
      const auto it = pods_.find({namespace_name, name});
      if (it == pods_.end()) return;
      history_.push_back({.resource_version = ++resource_version_,
                          .previous = std::move(it->second.pod),
                          .current = {}});
      pods_.erase(it);
    }
    changed_.notify_all();
  }

  uint64_t resource_version() const {
    const std::lock_guard lock(mutex_);
    return resource_version_;
  }

  // A PodList of the pods `selector` matches, at the current resourceVersion.
  json list(const FieldSelector& selector) const {
    const std::lock_guard lock(mutex_);
    json items = json::array();
    for (const auto& [key, stored] : pods_) {
      if (!matches(selector, stored.pod)) continue;
      json item = to_pod_json(stored.pod, std::to_string(stored.resource_version));
      // List items carry no kind/apiVersion; the list itself does.
      item.erase("kind");
      item.erase("apiVersion");
      items.push_back(std::move(item));
    }
    return {{"kind", "PodList"},
            {"apiVersion", "v1"},
            {"metadata", {{"resourceVersion", std::to_string(resource_version_)}}},
            {"items", std::move(items)}};
  }

  // Starts a watch from `from` (nullopt: from now, beginning with the current pods as ADDED).
  // Unless it expired, the watch counts as open until end_watch().
  WatchStart start_watch(FieldSelector selector, std::optional<uint64_t> from) {
    WatchStart start;
    {
      const std::lock_guard lock(mutex_);
      if (from && *from < compacted_through_) {
        start.expired = true;
        const std::string message = "too old resource version: " + std::to_string(*from) + " (" +
                                    std::to_string(compacted_through_) + ")";
        start.lines.push_back(watch_line("ERROR", status_object(410, "Expired", message)));
        return start;
      }
      if (from) {
        start.cursor.resource_version = *from;
        append_changes_locked(selector, start.cursor.resource_version, start.lines);
      } else {
        for (const auto& [key, stored] : pods_) {
          if (!matches(selector, stored.pod)) continue;
          start.lines.push_back(watch_line(
              "ADDED", to_pod_json(stored.pod, std::to_string(stored.resource_version))));
        }
      }
      start.cursor.resource_version = std::max(start.cursor.resource_version, resource_version_);
      start.cursor.selector = std::move(selector);
      start.cursor.generation = watch_generation_;
      ++open_watches_;
    }
    changed_.notify_all();
    return start;
  }

  void end_watch() {
    {
      const std::lock_guard lock(mutex_);
      --open_watches_;
    }
    changed_.notify_all();
  }

  // Waits until `cursor` has new changes, the stream must end, or `until`.
  WatchWake wait(WatchCursor& cursor, Clock::time_point until) const {
    std::unique_lock lock(mutex_);
    changed_.wait_until(lock, until, [&] {
      return stopping_ || watch_generation_ != cursor.generation ||
             resource_version_ > cursor.resource_version;
    });
    WatchWake wake;
    if (stopping_) {
      wake.stopping = true;
    } else if (watch_generation_ != cursor.generation) {
      wake.end_stream = true;
    } else {
      append_changes_locked(cursor.selector, cursor.resource_version, wake.lines);
      cursor.resource_version = resource_version_;
    }
    return wake;
  }

  void compact() {
    {
      const std::lock_guard lock(mutex_);
      history_.clear();
      compacted_through_ = resource_version_;
      ++watch_generation_;
    }
    changed_.notify_all();
  }

  void close_watches() {
    {
      const std::lock_guard lock(mutex_);
      ++watch_generation_;
    }
    changed_.notify_all();
  }

  void stop() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
  }

  size_t open_watches() const {
    const std::lock_guard lock(mutex_);
    return open_watches_;
  }

  bool wait_for_open_watches(size_t count, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return open_watches_ >= count; });
  }

 private:
  struct StoredPod {
    FakePod pod;
    uint64_t resource_version;  // of its last change
  };

  // Appends the events `selector` sees among the changes after `after`.
  void append_changes_locked(const FieldSelector& selector, uint64_t after,
                             std::vector<std::string>& lines) const {
    // history_ holds exactly the changes compacted_through_ + 1 .. resource_version_.
    const uint64_t skip = after > compacted_through_ ? after - compacted_through_ : 0;
    for (size_t i = static_cast<size_t>(std::min<uint64_t>(skip, history_.size()));
         i < history_.size(); ++i) {
      if (auto line = watch_line_for(history_[i], selector)) lines.push_back(std::move(*line));
    }
  }

  mutable std::mutex mutex_;
  // Signals a change, a watch-ending call, shutdown, or a watch opening or closing.
  mutable std::condition_variable changed_;
  std::map<std::pair<std::string, std::string>, StoredPod> pods_;  // by namespace, name
  uint64_t resource_version_ = kInitialResourceVersion;
  uint64_t compacted_through_ = kInitialResourceVersion;
  std::deque<PodChange> history_;
  uint64_t watch_generation_ = 0;  // bumped to end every open watch stream
  size_t open_watches_ = 0;
  bool stopping_ = false;
};

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

std::string reason_phrase(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    default:
      return "Error";
  }
}

std::string json_response(int code, const std::string& text, bool close) {
  return "HTTP/1.1 " + std::to_string(code) + " " + reason_phrase(code) +
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
  const auto end = std::to_chars(size.data(), size.data() + size.size(), data.size(), 16).ptr;
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
    HttpRequestReader reader;
    HttpRequest request;
    std::array<char, kReadChunkBytes> buffer;
    for (;;) {
      size_t n = 0;
      ERR_clear_error();
      if (SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &n) != 1) {
        if (SSL_get_error(ssl_.get(), 0) == SSL_ERROR_ZERO_RETURN) SSL_shutdown(ssl_.get());
        return;
      }
      reader.feed(std::string_view(buffer.data(), n));
      for (auto result = reader.next(request); result != HttpRequestReader::Result::kNeedMore;
           result = reader.next(request)) {
        if (result == HttpRequestReader::Result::kMalformed) {
          write_all(status_response(400, "BadRequest", reader.error(), true));
          return close_gracefully();
        }
        const Next next = handle(request);
        if (next == Next::kClose) return close_gracefully();
        if (next == Next::kDrop) return;
      }
    }
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

  bool write_all(std::string_view bytes) {
    while (!bytes.empty()) {
      size_t written = 0;
      ERR_clear_error();
      if (SSL_write_ex(ssl_.get(), bytes.data(), bytes.size(), &written) != 1) return false;
      bytes.remove_prefix(written);
    }
    return true;
  }

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
    const auto deadline = Clock::now() + kLingerTimeout;
    std::array<char, 4096> discard;
    for (;;) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd pfd{.fd = fd_, .events = POLLIN, .revents = 0};
      if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
      if (::recv(fd_, discard.data(), discard.size(), 0) <= 0) break;
    }
  }

  ServerContext& context_;
  const int fd_;
  const SslPtr ssl_;
};

}  // namespace

nlohmann::json to_pod_json(const FakePod& pod, const std::string& resource_version) {
  const std::string created =
      pod.creation_timestamp.empty() ? std::string(kDefaultTimestamp) : pod.creation_timestamp;
  json metadata = {{"name", pod.name},
                   {"namespace", pod.namespace_name},
                   {"uid", pod.uid},
                   {"resourceVersion", resource_version},
                   {"creationTimestamp", created}};
  if (!pod.labels.empty()) metadata["labels"] = pod.labels;

  json containers = json::array();
  json statuses = json::array();
  bool all_started = !pod.containers.empty();
  for (const FakePodContainer& container : pod.containers) {
    containers.push_back({{"name", container.name}, {"image", container.image}});
    statuses.push_back(container_status(container, created));
    all_started = all_started && !container.container_id.empty();
  }
  json spec = {{"containers", std::move(containers)},
               {"serviceAccountName", pod.service_account},
               {"serviceAccount", pod.service_account}};
  if (!pod.node_name.empty()) spec["nodeName"] = pod.node_name;

  json status = {{"phase", all_started ? "Running" : "Pending"}};
  if (!pod.pod_ip.empty()) {
    status["podIP"] = pod.pod_ip;
    status["podIPs"] = json::array({{{"ip", pod.pod_ip}}});
  }
  // The kubelet reports container statuses only once the pod is bound to its node.
  if (!pod.node_name.empty()) status["containerStatuses"] = std::move(statuses);

  return {{"kind", "Pod"},
          {"apiVersion", "v1"},
          {"metadata", std::move(metadata)},
          {"spec", std::move(spec)},
          {"status", std::move(status)}};
}

struct FakeKubeApiServer::State {
  struct Worker {
    explicit Worker(UniqueFd socket) : fd(std::move(socket)) {}
    // Kept open until the thread is joined, so shutdown() from stop() can never hit a
    // descriptor number that was meanwhile reused.
    UniqueFd fd;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  explicit State(FakeKubeApiOptions options)
      : context{.store = {},
                .ledger = RequestLedger(std::move(options.token)),
                .bookmark_interval = options.bookmark_interval},
        ctx(make_server_context(options.cert_file, options.key_file)),
        listen_fd(listen_on(options.bind_address, options.port)),
        wake_fd(::eventfd(0, EFD_CLOEXEC)),
        port(local_port(listen_fd.get())) {
    if (!wake_fd) throw_errno("eventfd");
    accept_thread = std::thread([this] { accept_loop(); });
  }

  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() { stop(); }

  void accept_loop() {
    block_sigpipe_in_this_thread();  // inherited by every connection thread
    for (;;) {
      std::array<pollfd, 2> fds{{{.fd = listen_fd.get(), .events = POLLIN, .revents = 0},
                                 {.fd = wake_fd.get(), .events = POLLIN, .revents = 0}}};
      if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
      if (fds[1].revents != 0) return;
      if (fds[0].revents & POLLIN) accept_one();
    }
  }

  void accept_one() {
    UniqueFd fd(::accept4(listen_fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(10ms);
      return;
    }
    const int on = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    reap_finished_workers();
    Worker& worker = workers.emplace_back(std::move(fd));
    try {
      worker.thread = std::thread([this, &worker] {
        KubeConnection(context, ctx.get(), worker.fd.get()).run();
        worker.done = true;
      });
    } catch (const std::system_error&) {  // thread limit: drop this connection, keep serving
      workers.pop_back();
    }
  }

  void reap_finished_workers() {
    workers.remove_if([](Worker& worker) {
      if (!worker.done) return false;
      worker.thread.join();
      return true;
    });
  }

  void stop() {
    context.store.stop();
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t ignored = ::write(wake_fd.get(), &one, sizeof(one));
    if (accept_thread.joinable()) accept_thread.join();
    // Unblocks connection threads in SSL_accept/SSL_read/SSL_write; watches end via stop().
    for (Worker& worker : workers) ::shutdown(worker.fd.get(), SHUT_RDWR);
    for (Worker& worker : workers) worker.thread.join();
    workers.clear();
  }

  ServerContext context;
  SslCtxPtr ctx;
  UniqueFd listen_fd;
  UniqueFd wake_fd;  // eventfd written by stop() to end accept_loop()
  uint16_t port;
  std::list<Worker> workers;  // used by the accept thread only, then by stop() after joining it
  std::thread accept_thread;
};

FakeKubeApiServer::FakeKubeApiServer(FakeKubeApiOptions options)
    : state_(std::make_unique<State>(std::move(options))) {}

FakeKubeApiServer::~FakeKubeApiServer() = default;

uint16_t FakeKubeApiServer::port() const { return state_->port; }

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
