#include "enrich/pod_directory.h"

#include <mutex>
#include <unordered_set>
#include <utility>

namespace llmtap::enrich {

PodDirectory::PodDirectory(size_t max_deleted, std::chrono::seconds deleted_ttl)
    : max_deleted_(max_deleted), deleted_ttl_(deleted_ttl) {}

void PodDirectory::index_locked(const std::shared_ptr<const PodRecord>& pod) {
  for (const PodContainer& c : pod->containers) {
    if (!c.id.empty()) uid_by_container_[c.id] = pod->uid;
  }
}

void PodDirectory::unindex_locked(const PodRecord& pod) {
  for (const PodContainer& c : pod.containers) {
    auto it = uid_by_container_.find(c.id);
    if (it != uid_by_container_.end() && it->second == pod.uid) uid_by_container_.erase(it);
  }
}

void PodDirectory::mark_deleted_locked(const std::string& uid, Clock::time_point now) {
  auto it = by_uid_.find(uid);
  if (it == by_uid_.end() || it->second.deleted) return;
  it->second.deleted = true;
  it->second.deleted_at = now;
  deleted_order_.push_back(uid);
  ++deleted_count_;
}

void PodDirectory::expire_deleted_locked(Clock::time_point now) {
  while (!deleted_order_.empty()) {
    auto it = by_uid_.find(deleted_order_.front());
    // Stale queue entry: the pod came back (a relist showed it) or is already gone.
    if (it == by_uid_.end() || !it->second.deleted) {
      deleted_order_.pop_front();
      continue;
    }
    if (deleted_count_ <= max_deleted_ && now - it->second.deleted_at < deleted_ttl_) break;
    unindex_locked(*it->second.pod);
    by_uid_.erase(it);
    deleted_order_.pop_front();
    --deleted_count_;
  }
}

void PodDirectory::replace_all(std::vector<PodRecord> pods) {
  const auto now = Clock::now();
  std::unique_lock lock(mutex_);
  std::unordered_set<std::string> listed;
  for (PodRecord& p : pods) {
    listed.insert(p.uid);
    auto record = std::make_shared<const PodRecord>(std::move(p));
    auto& entry = by_uid_[record->uid];
    if (entry.pod) unindex_locked(*entry.pod);
    entry.pod = record;
    if (entry.deleted) {
      // Back: out of the deletion queue, or a second deletion would keep the first one's place.
      --deleted_count_;
      std::erase(deleted_order_, record->uid);
    }
    entry.deleted = false;
    index_locked(record);
  }
  for (auto& [uid, entry] : by_uid_) {
    if (!listed.contains(uid) && !entry.deleted) {
      entry.deleted = true;
      entry.deleted_at = now;
      deleted_order_.push_back(uid);
      ++deleted_count_;
    }
  }
  expire_deleted_locked(now);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

void PodDirectory::upsert(PodRecord pod) {
  auto record = std::make_shared<const PodRecord>(std::move(pod));
  std::unique_lock lock(mutex_);
  auto& entry = by_uid_[record->uid];
  if (entry.pod) unindex_locked(*entry.pod);
  entry.pod = record;
  if (entry.deleted) {
    --deleted_count_;
    std::erase(deleted_order_, record->uid);  // as in replace_all
  }
  entry.deleted = false;
  index_locked(record);
  expire_deleted_locked(Clock::now());
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

void PodDirectory::remove(const std::string& uid) {
  const auto now = Clock::now();
  std::unique_lock lock(mutex_);
  mark_deleted_locked(uid, now);
  expire_deleted_locked(now);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

std::optional<PodMatch> PodDirectory::by_container(std::string_view container_id) const {
  std::shared_lock lock(mutex_);
  const auto c = uid_by_container_.find(std::string(container_id));
  if (c == uid_by_container_.end()) return std::nullopt;
  const auto p = by_uid_.find(c->second);
  if (p == by_uid_.end()) return std::nullopt;
  PodMatch match{p->second.pod, nullptr};
  for (const PodContainer& pc : match.pod->containers) {
    if (pc.id == container_id) match.container = &pc;
  }
  return match;
}

std::shared_ptr<const PodRecord> PodDirectory::by_uid(std::string_view uid) const {
  std::shared_lock lock(mutex_);
  const auto p = by_uid_.find(std::string(uid));
  return p == by_uid_.end() ? nullptr : p->second.pod;
}

size_t PodDirectory::live_pods() const {
  std::shared_lock lock(mutex_);
  return by_uid_.size() - deleted_count_;
}

size_t PodDirectory::deleted_pods() const {
  std::shared_lock lock(mutex_);
  return deleted_count_;
}

}  // namespace llmtap::enrich
