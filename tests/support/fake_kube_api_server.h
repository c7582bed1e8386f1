// A local HTTPS stand-in for the Kubernetes API's pod list and watch, for pod watcher tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace llmtap::testing {

struct FakePodContainer {
  std::string name;
  std::string image;
  std::string container_id;  // "containerd://<64 hex>"; empty: not started yet
};

struct FakePod {
  std::string namespace_name;
  std::string name;
  std::string uid;        // add_pod() generates one when empty, as the apiserver does
  std::string node_name;  // empty: not scheduled yet
  std::string service_account = "default";
  std::string pod_ip;  // empty: not assigned yet
  std::map<std::string, std::string> labels;
  std::vector<FakePodContainer> containers;
  std::string creation_timestamp;  // RFC 3339; add_pod() stamps the current time when empty
};

// A v1 Pod as the apiserver serialises it. Phase is "Running" once every container has a
// container_id, "Pending" before.
nlohmann::json to_pod_json(const FakePod& pod, const std::string& resource_version);

struct FakeKubeApiOptions {
  std::string cert_file;  // PEM
  std::string key_file;   // PEM
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;  // 0 = ephemeral; a fixed port lets a test start the server late
  std::string token;  // the bearer token every request must carry; must not be empty
  // Idle time after which a watch with allowWatchBookmarks=true gets a BOOKMARK event.
  std::chrono::milliseconds bookmark_interval{1000};
};

// Serves GET /api/v1/pods and /api/v1/namespaces/<ns>/pods, as list and as watch (?watch=1),
// with fieldSelector (spec.nodeName, metadata.name, metadata.namespace), resourceVersion,
// allowWatchBookmarks and timeoutSeconds, over HTTP/1.1 keep-alive on TLS 1.2+.
// Every change gets the next integer resourceVersion and is kept in a history that watches
// replay from; compact() forgets it, so older watches get the apiserver's 410 "Expired" event.
// One thread accepts, one thread serves each connection.
class FakeKubeApiServer {
 public:
  // Binds (SO_REUSEADDR), listens and starts serving. Throws std::runtime_error on failure.
  explicit FakeKubeApiServer(FakeKubeApiOptions options);
  // Shuts down every connection (open watches see EOF) and joins all threads.
  ~FakeKubeApiServer();

  FakeKubeApiServer(const FakeKubeApiServer&) = delete;
  FakeKubeApiServer& operator=(const FakeKubeApiServer&) = delete;

  uint16_t port() const;
  // The resourceVersion of the latest change ("1" before any).
  std::string resource_version() const;

  // From now on only `token` is accepted; the old one gets 401. Throws if empty.
  void set_token(std::string token);

  // Each bumps the resourceVersion and notifies matching watches. A pod is identified by
  // namespace and name: add_pod() replaces an existing one (as MODIFIED), update_pod() of an
  // unknown pod adds it (as ADDED), delete_pod() of an unknown pod does nothing.
  void add_pod(FakePod pod);
  void update_pod(FakePod pod);
  void delete_pod(const std::string& namespace_name, const std::string& name);

  // Forgets the event history, so a watch from any older resourceVersion gets 410, and ends
  // the open watch streams, like an etcd compaction.
  void compact();
  // Ends every open watch stream cleanly (final chunk), as the apiserver does at
  // timeoutSeconds or on restart. The connections stay open.
  void close_watches();

  // Blocks until at least `count` watch streams are open or `timeout` passes.
  bool wait_for_open_watches(size_t count, std::chrono::milliseconds timeout) const;
  size_t open_watches() const;

  // Authorized requests, by kind.
  size_t list_requests() const;
  size_t watch_requests() const;
  size_t unauthorized_requests() const;
  // Watches answered with the 410 "Expired" ERROR event.
  size_t gone_responses() const;
  // Every request-target seen (authorized or not), in arrival order.
  std::vector<std::string> request_targets() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace llmtap::testing
