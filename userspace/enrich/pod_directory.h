#pragma once
// The pods of this node, as the Kubernetes API last told: written by the pod watcher's thread,
// read by the pipeline's. Deleted pods stay findable for a while (bounded), so that a record
// finished after its pod went away (a long streamed answer, a late exit) still names it.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "enrich/pod_record.h"

namespace llmtap::enrich {

struct PodMatch {
  std::shared_ptr<const PodRecord> pod;
  const PodContainer* container = nullptr;  // into *pod; null when matched by pod uid only
};

class PodDirectory {
 public:
  using Clock = std::chrono::steady_clock;

  explicit PodDirectory(size_t max_deleted = 1024,
                        std::chrono::seconds deleted_ttl = std::chrono::minutes(10));

  // A full list: pods not in it were deleted while nobody watched.
  void replace_all(std::vector<PodRecord> pods);
  void upsert(PodRecord pod);
  void remove(const std::string& uid);

  std::optional<PodMatch> by_container(std::string_view container_id) const;
  std::shared_ptr<const PodRecord> by_uid(std::string_view uid) const;

  // Bumped on every change: readers with a cached answer look again only when it moved.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  size_t live_pods() const;
  size_t deleted_pods() const;

 private:
  struct Entry {
    std::shared_ptr<const PodRecord> pod;
    bool deleted = false;
    Clock::time_point deleted_at;
  };
  void index_locked(const std::shared_ptr<const PodRecord>& pod);
  void unindex_locked(const PodRecord& pod);
  void mark_deleted_locked(const std::string& uid, Clock::time_point now);
  void expire_deleted_locked(Clock::time_point now);

  const size_t max_deleted_;
  const std::chrono::seconds deleted_ttl_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry> by_uid_;
  std::unordered_map<std::string, std::string> uid_by_container_;
  std::deque<std::string> deleted_order_;  // uids, oldest deletion first
  size_t deleted_count_ = 0;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace llmtap::enrich
