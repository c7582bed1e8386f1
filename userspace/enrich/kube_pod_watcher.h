#pragma once
// Keeps a PodDirectory in step with the pods of one node: lists them through the Kubernetes
// API, then watches from the list's resourceVersion. Its own thread, so capture never waits on
// the API server. Handles what a long-lived watcher meets: streams the server ends (timeout,
// restart), history compacted (410 Gone: list again), rotated service-account tokens (read
// again before each request), a server that is down or slow (retried with backoff and jitter).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "enrich/kube_api_config.h"
#include "enrich/pod_directory.h"

namespace llmtap::enrich {

struct KubeWatchOptions {
  std::string node_name;
  std::chrono::seconds watch_timeout{300};  // the server ends a watch after this (timeoutSeconds)
  std::chrono::milliseconds backoff_min{500};
  std::chrono::milliseconds backoff_max{8000};
  std::chrono::seconds connect_timeout{5};
  size_t max_list_bytes = size_t{256} << 20;
  size_t max_event_bytes = size_t{16} << 20;
};

struct KubeWatchStats {
  uint64_t lists = 0;            // successful lists
  uint64_t watches = 0;          // watch streams opened
  uint64_t events = 0;           // pod events applied
  uint64_t relists_after_gone = 0;
  uint64_t request_errors = 0;   // connection, TLS and HTTP failures
  uint64_t auth_failures = 0;    // 401 and 403
  uint64_t bad_events = 0;       // lines that were not watch events
  bool synced = false;           // a list has succeeded: the directory is complete
  bool reachable = false;        // the last request succeeded
};

class KubePodWatcher {
 public:
  KubePodWatcher(KubeApiConfig config, KubeWatchOptions options, PodDirectory& pods);
  ~KubePodWatcher();  // stops within about a second and joins

  KubePodWatcher(const KubePodWatcher&) = delete;
  KubePodWatcher& operator=(const KubePodWatcher&) = delete;

  void start();
  void stop();
  KubeWatchStats stats() const;
  bool synced() const { return synced_.load(std::memory_order_acquire); }

  struct Transfer;  // one request, as libcurl's callbacks see it

 private:
  enum class WatchEnd { kClosed, kGone, kFailed };

  void run();
  bool list_pods();
  WatchEnd watch_pods();
  void wait_backoff();
  std::string bearer_token();
  void count_failure(long status, const std::string& what);

  const KubeApiConfig config_;
  const KubeWatchOptions options_;
  PodDirectory& pods_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> synced_{false};
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;
  std::string resource_version_;  // where the next watch starts; "" = list first
  std::string last_token_;
  std::chrono::milliseconds backoff_{0};
  std::atomic<bool> failing_{true};  // the last request failed (none yet: true)
  bool warned_ = false;              // this outage was logged
  void* curl_ = nullptr;  // one easy handle: keeps the connection alive between requests
  mutable std::mutex stats_mutex_;
  KubeWatchStats stats_;
};

}  // namespace llmtap::enrich
