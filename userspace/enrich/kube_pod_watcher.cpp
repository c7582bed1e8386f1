#include "enrich/kube_pod_watcher.h"

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string_view>

#include "enrich/kube_pod_json.h"

namespace llmtap::enrich {
namespace {

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

}  // namespace

// One request's state, seen by libcurl's callbacks.
struct KubePodWatcher::Transfer {
  KubePodWatcher* self = nullptr;
  CURL* curl = nullptr;
  bool streaming = false;  // a watch: lines are applied as they arrive
  size_t limit = 0;
  std::string body;        // a list's body, or the part of a watch line not yet complete
  bool too_big = false;
  bool gone = false;       // ERROR 410 in the stream
  long status = 0;

  void apply_line(std::string_view line) {
    if (line.empty()) return;
    const auto event = watch_event_from_json(line);
    if (!event) {
      std::lock_guard lock(self->stats_mutex_);
      ++self->stats_.bad_events;
      return;
    }
    if (event->type == WatchEventType::kError) {
      if (event->error_code == 410) gone = true;
      spdlog::debug("kubernetes: watch error {}: {}", event->error_code, event->error_message);
      return;
    }
    if (event->type == WatchEventType::kUnknown) return;
    // Counted before the directory changes: whoever sees the change sees it counted.
    if (event->type != WatchEventType::kBookmark) {
      std::lock_guard lock(self->stats_mutex_);
      ++self->stats_.events;
    }
    switch (event->type) {
      case WatchEventType::kAdded:
      case WatchEventType::kModified:
        self->pods_.upsert(std::move(*event->pod));
        break;
      case WatchEventType::kDeleted:
        self->pods_.remove(event->pod->uid);
        break;
      case WatchEventType::kBookmark:
      case WatchEventType::kError:
      case WatchEventType::kUnknown:
        break;
    }
    if (!event->resource_version.empty()) self->resource_version_ = event->resource_version;
  }

  size_t take(const char* data, size_t size) {
    if (status == 0) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (!streaming || status != 200) {
      if (body.size() + size > limit) {
        too_big = true;
        return 0;  // aborts the transfer
      }
      body.append(data, size);
      return size;
    }
    std::string_view in(data, size);
    while (!in.empty()) {
      const size_t nl = in.find('\n');
      // A line over the limit aborts, whether or not it ends in this piece.
      if (body.size() + std::min(nl, in.size()) > limit) {
        too_big = true;
        return 0;
      }
      if (nl == std::string_view::npos) {
        body.append(in);
        break;
      }
      if (body.empty()) {
        apply_line(in.substr(0, nl));
      } else {
        body.append(in.substr(0, nl));
        apply_line(body);
        body.clear();
      }
      in.remove_prefix(nl + 1);
    }
    return size;
  }
};

namespace {

size_t write_callback(char* data, size_t size, size_t count, void* user) {
  return static_cast<KubePodWatcher::Transfer*>(user)->take(data, size * count);
}

}  // namespace

KubePodWatcher::KubePodWatcher(KubeApiConfig config, KubeWatchOptions options, PodDirectory& pods)
    : config_(std::move(config)), options_(std::move(options)), pods_(pods) {
  init_curl_once();
}

KubePodWatcher::~KubePodWatcher() {
  stop();
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

void KubePodWatcher::start() {
  if (thread_.joinable()) return;
  spdlog::info("kubernetes: watching the pods of node {} through {} ({})", options_.node_name,
               config_.server, config_.source);
  thread_ = std::thread([this] { run(); });
}

void KubePodWatcher::stop() {
  {
    std::lock_guard lock(wait_mutex_);
    stopping_.store(true, std::memory_order_release);
  }
  wait_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

KubeWatchStats KubePodWatcher::stats() const {
  std::lock_guard lock(stats_mutex_);
  KubeWatchStats s = stats_;
  s.synced = synced();
  s.reachable = !failing_.load(std::memory_order_acquire);
  return s;
}

void KubePodWatcher::run() {
  while (!stopping_.load(std::memory_order_acquire)) {
    if (resource_version_.empty() && !list_pods()) {
      wait_backoff();
      continue;
    }
    switch (watch_pods()) {
      case WatchEnd::kClosed:  // the server ended it (timeoutSeconds): watch on from where we are
        break;
      case WatchEnd::kGone:
        resource_version_.clear();
        {
          std::lock_guard lock(stats_mutex_);
          ++stats_.relists_after_gone;
        }
        spdlog::info("kubernetes: watch history compacted (410 Gone): listing again");
        break;
      case WatchEnd::kFailed:
        wait_backoff();
        break;
    }
  }
}

void KubePodWatcher::wait_backoff() {
  static thread_local std::mt19937 random{std::random_device{}()};
  backoff_ = backoff_.count() == 0 ? options_.backoff_min
                                   : std::min(backoff_ * 2, options_.backoff_max);
  // Full jitter in [backoff/2, backoff]: many agents restarted together do not retry together.
  std::uniform_int_distribution<int64_t> jitter(backoff_.count() / 2, backoff_.count());
  const std::chrono::milliseconds wait(jitter(random));
  std::unique_lock lock(wait_mutex_);
  wait_cv_.wait_for(lock, wait, [this] { return stopping_.load(std::memory_order_acquire); });
}

std::string KubePodWatcher::bearer_token() {
  if (config_.token_file.empty()) return config_.token;
  std::ifstream in(config_.token_file);
  std::stringstream text;
  text << in.rdbuf();
  std::string token = trim(text.str());
  if (token.empty()) {
    spdlog::debug("kubernetes: cannot read token file {}; using the last token",
                  config_.token_file);
    return last_token_;
  }
  last_token_ = token;
  return token;
}

void KubePodWatcher::count_failure(long status, const std::string& what) {
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.request_errors;
    if (status == 401 || status == 403) ++stats_.auth_failures;
  }
  // Once per outage at warning level: a down API server must not flood the log.
  failing_.store(true, std::memory_order_release);
  if (!warned_) {
    spdlog::warn("kubernetes: {} (retrying; records carry container ids until the API answers)",
                 what);
    warned_ = true;
  } else {
    spdlog::debug("kubernetes: {}", what);
  }
}

namespace {

std::string describe_status(long status, const std::string& body) {
  std::string what = "HTTP " + std::to_string(status);
  if (status == 401) what += " (token rejected)";
  if (status == 403) what += " (forbidden: the ClusterRole must allow get/list/watch on pods)";
  // A Status object's message, never the request (which carries the token).
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("message") && doc["message"].is_string()) {
    what += ": " + doc["message"].get<std::string>().substr(0, 200);
  }
  return what;
}

}  // namespace

// Sets the request up on the (reused) handle. Returns the header list to free.
static curl_slist* prepare(CURL* curl, const KubeApiConfig& config, const std::string& url,
                           const std::string& token, KubePodWatcher::Transfer& transfer,
                           std::chrono::seconds connect_timeout, long total_timeout_s) {
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, total_timeout_s);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 30L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 10L);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // gzip when the server offers it
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_callback);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
  if (config.insecure_skip_tls_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!config.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config.ca_file.c_str());
  if (!config.ca_pem.empty()) {
    curl_blob blob{const_cast<char*>(config.ca_pem.data()), config.ca_pem.size(),
                   CURL_BLOB_COPY};
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!config.client_cert_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, config.client_cert_file.c_str());
  }
  if (!config.client_cert_pem.empty()) {
    curl_blob blob{const_cast<char*>(config.client_cert_pem.data()),
                   config.client_cert_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &blob);
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!config.client_key_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLKEY, config.client_key_file.c_str());
  }
  if (!config.client_key_pem.empty()) {
    curl_blob blob{const_cast<char*>(config.client_key_pem.data()), config.client_key_pem.size(),
                   CURL_BLOB_COPY};
    curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &blob);
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  if (!token.empty()) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "llmtap");
  return headers;
}

namespace {

int progress_callback(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  // Called at least once a second, even while a watch idles: how a stop ends a transfer.
  return static_cast<const std::atomic<bool>*>(user)->load(std::memory_order_acquire) ? 1 : 0;
}

}  // namespace

bool KubePodWatcher::list_pods() {
  if (curl_ == nullptr) curl_ = curl_easy_init();
  CURL* curl = static_cast<CURL*>(curl_);
  std::vector<PodRecord> pods;
  std::string continue_token;
  std::string resource_version;
  do {
    std::string url = config_.server + "/api/v1/pods?fieldSelector=" +
                      url_encode("spec.nodeName=" + options_.node_name) + "&limit=500";
    if (!continue_token.empty()) url += "&continue=" + url_encode(continue_token);
    Transfer t;
    t.self = this;
    t.curl = curl;
    t.limit = options_.max_list_bytes;
    curl_slist* headers =
        prepare(curl, config_, url, bearer_token(), t, options_.connect_timeout, 120);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress_callback);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &stopping_);
    const CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &t.status);
    if (stopping_.load(std::memory_order_acquire)) return false;
    if (rc != CURLE_OK) {
      count_failure(0, std::string("listing pods: ") +
                           (t.too_big ? "list larger than the limit" : curl_easy_strerror(rc)));
      return false;
    }
    if (t.status != 200) {
      count_failure(t.status, "listing pods: " + describe_status(t.status, t.body));
      return false;
    }
    auto page = pod_list_from_json(t.body);
    if (!page) {
      count_failure(0, "listing pods: the answer is not a PodList");
      return false;
    }
    for (PodRecord& p : page->pods) pods.push_back(std::move(p));
    continue_token = page->continue_token;
    resource_version = page->resource_version;
  } while (!continue_token.empty());
  const size_t count = pods.size();
  // The list is counted and the server marked reachable before the directory changes:
  // whoever sees the listed pods sees the list in stats() too.
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.lists;
  }
  backoff_ = std::chrono::milliseconds(0);
  if (warned_) spdlog::info("kubernetes: API server reachable again");
  warned_ = false;
  failing_.store(false, std::memory_order_release);
  pods_.replace_all(std::move(pods));
  resource_version_ = resource_version.empty() ? "0" : resource_version;
  synced_.store(true, std::memory_order_release);
  spdlog::info("kubernetes: {} pods on node {} (resourceVersion {})", count, options_.node_name,
               resource_version_);
  return true;
}

KubePodWatcher::WatchEnd KubePodWatcher::watch_pods() {
  CURL* curl = static_cast<CURL*>(curl_);
  const std::string url = config_.server + "/api/v1/pods?watch=1&allowWatchBookmarks=true" +
                          "&resourceVersion=" + url_encode(resource_version_) +
                          "&timeoutSeconds=" + std::to_string(options_.watch_timeout.count()) +
                          "&fieldSelector=" +
                          url_encode("spec.nodeName=" + options_.node_name);
  Transfer t;
  t.self = this;
  t.curl = curl;
  t.streaming = true;
  t.limit = options_.max_event_bytes;
  // The server ends the stream at timeoutSeconds; ours is a guard against one that does not.
  curl_slist* headers = prepare(curl, config_, url, bearer_token(), t, options_.connect_timeout,
                                static_cast<long>(options_.watch_timeout.count()) + 60);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress_callback);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &stopping_);
  uint64_t events_before = 0;
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.watches;
    events_before = stats_.events;
  }
  const auto started = std::chrono::steady_clock::now();
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &t.status);
  if (stopping_.load(std::memory_order_acquire)) return WatchEnd::kClosed;
  if (t.gone || t.status == 410) return WatchEnd::kGone;
  if (t.status != 0 && t.status != 200) {
    count_failure(t.status, "watching pods: " + describe_status(t.status, t.body));
    return WatchEnd::kFailed;
  }
  if (rc != CURLE_OK) {
    count_failure(0, std::string("watching pods: ") +
                         (t.too_big ? "event larger than the limit" : curl_easy_strerror(rc)));
    if (t.too_big) resource_version_.clear();  // an event was lost: list again
    return WatchEnd::kFailed;
  }
  // A server that ends every watch at once, with nothing in it, is not retried in a busy loop.
  {
    std::lock_guard lock(stats_mutex_);
    if (stats_.events == events_before &&
        std::chrono::steady_clock::now() - started < std::chrono::seconds(1)) {
      return WatchEnd::kFailed;
    }
  }
  if (warned_) spdlog::info("kubernetes: API server reachable again");
  warned_ = false;
  failing_.store(false, std::memory_order_release);
  backoff_ = std::chrono::milliseconds(0);
  return WatchEnd::kClosed;
}

}  // namespace llmtap::enrich
