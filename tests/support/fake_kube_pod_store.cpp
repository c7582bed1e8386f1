#include "fake_kube_pod_store.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <ctime>

#include "openssl_handles.h"

namespace llmtap::testing {
namespace {

using nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kDefaultTimestamp = "2024-01-01T00:00:00Z";

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

// ---- Selectors, watch events and the store

namespace fake_kube {
namespace {

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

}  // namespace

const std::string* pod_field(const FakePod& pod, std::string_view field) {
  if (field == "spec.nodeName") return &pod.node_name;
  if (field == "metadata.name") return &pod.name;
  if (field == "metadata.namespace") return &pod.namespace_name;
  return nullptr;
}

bool matches(const FieldSelector& selector, const FakePod& pod) {
  return std::all_of(selector.begin(), selector.end(), [&](const FieldRequirement& r) {
    return (*pod_field(pod, r.field) == r.value) == r.equal;
  });
}

OrderedJson status_object(int code, std::string_view reason, std::string_view message) {
  return {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", OrderedJson::object()},
          {"status", "Failure"}, {"message", message}, {"reason", reason},
          {"code", code}};
}

std::string watch_line(std::string_view type, const OrderedJson& object) {
  return OrderedJson{{"type", type}, {"object", object}}.dump() + "\n";
}

void PodStore::put(FakePod pod) {
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

void PodStore::remove(const std::string& namespace_name, const std::string& name) {
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

uint64_t PodStore::resource_version() const {
  const std::lock_guard lock(mutex_);
  return resource_version_;
}

json PodStore::list(const FieldSelector& selector) const {
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

WatchStart PodStore::start_watch(FieldSelector selector, std::optional<uint64_t> from) {
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
        start.lines.push_back(
            watch_line("ADDED", to_pod_json(stored.pod, std::to_string(stored.resource_version))));
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

void PodStore::end_watch() {
  {
    const std::lock_guard lock(mutex_);
    --open_watches_;
  }
  changed_.notify_all();
}

WatchWake PodStore::wait(WatchCursor& cursor, std::chrono::steady_clock::time_point until) const {
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

void PodStore::compact() {
  {
    const std::lock_guard lock(mutex_);
    history_.clear();
    compacted_through_ = resource_version_;
    ++watch_generation_;
  }
  changed_.notify_all();
}

void PodStore::close_watches() {
  {
    const std::lock_guard lock(mutex_);
    ++watch_generation_;
  }
  changed_.notify_all();
}

void PodStore::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
}

size_t PodStore::open_watches() const {
  const std::lock_guard lock(mutex_);
  return open_watches_;
}

bool PodStore::wait_for_open_watches(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return open_watches_ >= count; });
}

void PodStore::append_changes_locked(const FieldSelector& selector, uint64_t after,
                                     std::vector<std::string>& lines) const {
  // history_ holds exactly the changes compacted_through_ + 1 .. resource_version_.
  const uint64_t skip = after > compacted_through_ ? after - compacted_through_ : 0;
  for (size_t i = static_cast<size_t>(std::min<uint64_t>(skip, history_.size()));
       i < history_.size(); ++i) {
    if (auto line = watch_line_for(history_[i], selector)) lines.push_back(std::move(*line));
  }
}

}  // namespace fake_kube
}  // namespace llmtap::testing
