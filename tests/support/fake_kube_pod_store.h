// The pod storage behind FakeKubeApiServer: pods by namespace and name, the resourceVersion
// counter, the change history that watches replay from, compaction, and field selectors.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fake_kube_api_server.h"

namespace llmtap::testing::fake_kube {

// One `field=value`, `field==value` or `field!=value` term of a field selector.
struct FieldRequirement {
  std::string field;
  bool equal = true;
  std::string value;
};
using FieldSelector = std::vector<FieldRequirement>;

// The pod fields a selector may name (a subset of what the apiserver supports for pods):
// spec.nodeName, metadata.name and metadata.namespace. nullptr for any other field.
const std::string* pod_field(const FakePod& pod, std::string_view field);

// Whether `pod` meets every requirement of `selector`, whose fields pod_field() must know.
bool matches(const FieldSelector& selector, const FakePod& pod);

// A v1 Status object as the apiserver writes it (in its fixed key order).
nlohmann::ordered_json status_object(int code, std::string_view reason, std::string_view message);

// One newline-terminated watch event: {"type":<type>,"object":<object>}.
std::string watch_line(std::string_view type, const nlohmann::ordered_json& object);

// One change, as the watch cache keeps it: the pod before and after (nullopt for an add or
// a delete), so each watcher can tell from its own selector which event it sees.
struct PodChange {
  uint64_t resource_version = 0;
  std::optional<FakePod> previous;
  std::optional<FakePod> current;
};

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

// The pods and their change history, and the fan-out of changes to open watches. Every change
// gets the next integer resourceVersion (the first is 2; 1 stands for "before any change").
// Thread-safe.
class PodStore {
 public:
  // Adds or replaces the pod with the namespace and name of `pod` (an ADDED or MODIFIED
  // change). An empty uid or creation timestamp is kept from the pod replaced, else generated.
  void put(FakePod pod);
  // Deletes the pod (a DELETED change); does nothing for an unknown pod.
  void remove(const std::string& namespace_name, const std::string& name);

  // The resourceVersion of the latest change.
  uint64_t resource_version() const;

  // A PodList of the pods `selector` matches, at the current resourceVersion.
  nlohmann::json list(const FieldSelector& selector) const;

  // Starts a watch from `from` (nullopt: from now, beginning with the current pods as ADDED).
  // A `from` older than the last compact() gets the 410 "Expired" ERROR event and expires.
  // Unless it expired, the watch counts as open until end_watch().
  WatchStart start_watch(FieldSelector selector, std::optional<uint64_t> from);
  void end_watch();

  // Waits until `cursor` has new changes, the stream must end, or `until`; advances `cursor`
  // past the changes returned.
  WatchWake wait(WatchCursor& cursor, std::chrono::steady_clock::time_point until) const;

  // Forgets the history, so a watch from any older resourceVersion expires, and ends the open
  // watch streams, like an etcd compaction.
  void compact();
  // Ends every open watch stream.
  void close_watches();
  // Server shutdown: every waiting watch wakes with `stopping`.
  void stop();

  size_t open_watches() const;
  // Blocks until at least `count` watches are open or `timeout` passes.
  bool wait_for_open_watches(size_t count, std::chrono::milliseconds timeout) const;

 private:
  static constexpr uint64_t kInitialResourceVersion = 1;

  struct StoredPod {
    FakePod pod;
    uint64_t resource_version;  // of its last change
  };

  // Appends the events `selector` sees among the changes after `after`.
  void append_changes_locked(const FieldSelector& selector, uint64_t after,
                             std::vector<std::string>& lines) const;

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

}  // namespace llmtap::testing::fake_kube
