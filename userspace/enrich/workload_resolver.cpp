#include "enrich/workload_resolver.h"

#include <fstream>
#include <sstream>

#include "enrich/cgroup_path_reader.h"

namespace llmtap::enrich {

std::optional<CgroupContainer> container_from_proc_cgroup(std::string_view text) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const size_t first = line.find(':');
    const size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    if (auto c = parse_container_cgroup_path(line.substr(second + 1))) return c;
  }
  return std::nullopt;
}

WorkloadResolver::WorkloadResolver(PathOf path_of, ProcCgroup proc_cgroup,
                                   const PodDirectory* pods, size_t max_entries)
    : path_of_(std::move(path_of)),
      proc_cgroup_(std::move(proc_cgroup)),
      pods_(pods),
      max_entries_(max_entries) {}

WorkloadResolver::Cached WorkloadResolver::from_container(std::optional<CgroupContainer> container) {
  Cached c;
  c.container = std::move(container);
  c.generation = pods_ != nullptr ? pods_->generation() : 0;
  if (c.container) refresh(c);
  return c;
}

void WorkloadResolver::refresh(Cached& c) {
  c.generation = pods_ != nullptr ? pods_->generation() : 0;
  std::shared_ptr<const PodRecord> pod;
  const PodContainer* pod_container = nullptr;
  if (pods_ != nullptr) {
    if (auto match = pods_->by_container(c.container->id)) {
      pod = std::move(match->pod);
      pod_container = match->container;
    } else if (!c.container->pod_uid.empty()) {
      pod = pods_->by_uid(c.container->pod_uid);  // known pod, container not yet in its status
    }
  }
  if (c.identity && pod == c.pod && pod_container == c.pod_container) return;  // unchanged
  auto w = std::make_shared<llm::WorkloadIdentity>();
  w->container_id = c.container->id;
  w->container_runtime = std::string(to_string(c.container->runtime));
  w->pod_uid = c.container->pod_uid;
  if (pod) {
    w->pod_uid = pod->uid;
    w->pod_name = pod->name;
    w->pod_namespace = pod->namespace_name;
    w->node_name = pod->node_name;
    w->service_account = pod->service_account;
    w->pod_ip = pod->pod_ip;
    w->pod_labels = pod->labels;
  }
  if (pod_container != nullptr) {
    w->container_name = pod_container->name;
    w->image = pod_container->image;
    w->image_id = pod_container->image_id;
    if (w->container_runtime.empty()) w->container_runtime = pod_container->runtime;
  }
  c.pod = std::move(pod);
  c.pod_container = pod_container;
  c.identity = std::move(w);
}

const std::shared_ptr<const llm::WorkloadIdentity>& WorkloadResolver::current(Cached& c) {
  if (c.container && pods_ != nullptr && c.generation != pods_->generation()) {
    ++stats_.pod_refreshes;
    refresh(c);
  }
  return c.identity;
}

std::shared_ptr<const llm::WorkloadIdentity> WorkloadResolver::resolve(uint32_t pid,
                                                                       uint64_t cgroup_id) {
  if (auto p = by_pid_.find(pid); p != by_pid_.end()) {
    if (p->second.cgroup_id == cgroup_id) return current(p->second);
    by_pid_.erase(p);
  }
  auto it = by_cgroup_.find(cgroup_id);
  if (it == by_cgroup_.end()) {
    if (by_cgroup_.size() >= max_entries_) {
      stats_.evictions += by_cgroup_.size();
      by_cgroup_.clear();
    }
    ++stats_.cgroups_resolved;
    std::optional<CgroupContainer> container;
    const auto path = cgroup_id != 0 ? path_of_(cgroup_id) : std::nullopt;
    if (path) {
      container = parse_container_cgroup_path(*path);
    } else {
      ++stats_.cgroups_unknown;
    }
    it = by_cgroup_.emplace(cgroup_id, from_container(std::move(container))).first;
  }
  if (it->second.container || !proc_cgroup_) return current(it->second);
  // The v2 cgroup names no container; v1 hierarchies may (cgroupfs-driver runtimes on a
  // hybrid host). Once per process.
  if (by_pid_.size() >= max_entries_) {
    stats_.evictions += by_pid_.size();
    by_pid_.clear();
  }
  ++stats_.proc_cgroup_reads;
  Cached c = from_container(container_from_proc_cgroup(proc_cgroup_(pid)));
  c.cgroup_id = cgroup_id;
  return current(by_pid_.emplace(pid, std::move(c)).first->second);
}

void WorkloadResolver::forget(uint32_t pid) { by_pid_.erase(pid); }

std::shared_ptr<const llm::WorkloadIdentity> WorkloadResolver::refreshed(
    const std::shared_ptr<const llm::WorkloadIdentity>& w) {
  if (w == nullptr || pods_ == nullptr) return w;
  CgroupContainer container;
  container.id = w->container_id;
  container.pod_uid = w->pod_uid;
  Cached c = from_container(std::move(container));
  if (c.pod == nullptr) return w;
  // The runtime the cgroup path named stays (the pod status may not name one).
  if (c.identity->container_runtime.empty() && !w->container_runtime.empty()) {
    auto copy = std::make_shared<llm::WorkloadIdentity>(*c.identity);
    copy->container_runtime = w->container_runtime;
    return copy;
  }
  return c.identity;
}

std::unique_ptr<WorkloadResolver> make_host_workload_resolver(const PodDirectory* pods,
                                                              const std::string& proc_root) {
  auto reader = std::make_shared<CgroupPathReader>();
  WorkloadResolver::ProcCgroup proc_cgroup;
  if (reader->has_v1_hierarchies()) {
    proc_cgroup = [proc_root](uint32_t pid) {
      std::ifstream in(proc_root + "/" + std::to_string(pid) + "/cgroup");
      std::stringstream text;
      text << in.rdbuf();
      return text.str();
    };
  }
  return std::make_unique<WorkloadResolver>(
      [reader](uint64_t id) { return reader->path_of(id); }, std::move(proc_cgroup), pods);
}

}  // namespace llmtap::enrich
