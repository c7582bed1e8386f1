// Containers and pods: what naming the workload costs per record once cached, what a cache
// miss costs (a cgroup id to its path, by file handle), and what the pod directory holds in
// memory per 1,000 pods. Prints figures for docs/benchmarks.md.
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "enrich/cgroup_path_reader.h"
#include "enrich/kube_pod_json.h"
#include "enrich/pod_directory.h"
#include "enrich/process_identity_cache.h"
#include "enrich/workload_resolver.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace llmtap::enrich;

std::string hex(uint64_t seed, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    out.push_back(kHex[(seed >> 33) % 16]);
  }
  return out;
}

std::string uuid(uint64_t seed) {
  const std::string h = hex(seed, 32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

// A pod as a cluster has them: six labels, an app container and a sidecar, managedFields
// and the rest of a real object (which the directory drops).
nlohmann::json pod_json(size_t i) {
  using nlohmann::json;
  const std::string name = "checkout-api-7d9f8b6c5-" + hex(i, 5);
  json containers = json::array();
  json statuses = json::array();
  for (const char* c : {"app", "istio-proxy"}) {
    containers.push_back({{"name", c},
                          {"image", std::string("registry.example.com/shop/") + c + ":1.27.3"},
                          {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}}}},
                          {"env", json::array({{{"name", "LOG_LEVEL"}, {"value", "info"}}})}});
    statuses.push_back({{"name", c},
                        {"image", std::string("registry.example.com/shop/") + c + ":1.27.3"},
                        {"imageID", "registry.example.com/shop@sha256:" + hex(i * 7 + 1, 64)},
                        {"containerID", "containerd://" + hex(i * 31 + c[0], 64)},
                        {"ready", true},
                        {"started", true},
                        {"state", {{"running", {{"startedAt", "2026-11-30T09:00:00Z"}}}}}});
  }
  return {{"kind", "Pod"},
          {"apiVersion", "v1"},
          {"metadata",
           {{"name", name},
            {"namespace", "shop-prod"},
            {"uid", uuid(i)},
            {"resourceVersion", std::to_string(100000 + i)},
            {"labels",
             {{"app", "checkout-api"},
              {"pod-template-hash", "7d9f8b6c5"},
              {"team", "payments"},
              {"version", "v1.27.3"},
              {"security.istio.io/tlsMode", "istio"},
              {"service.istio.io/canonical-name", "checkout-api"}}},
            {"managedFields", json::array({{{"manager", "kubelet"},
                                            {"operation", "Update"},
                                            {"fieldsV1", {{"f:status", json::object()}}}}})}}},
          {"spec",
           {{"nodeName", "node-7"},
            {"serviceAccountName", "checkout-api"},
            {"containers", containers}}},
          {"status", {{"phase", "Running"}, {"podIP", "10.244.3.17"}, {"containerStatuses", statuses}}}};
}

size_t heap_in_use() { return mallinfo2().uordblks; }

}  // namespace

int main() {
  constexpr size_t kPods = 1000;
  // A PodList as the API server sends it.
  nlohmann::json list = {{"kind", "PodList"},
                         {"apiVersion", "v1"},
                         {"metadata", {{"resourceVersion", "123456"}}},
                         {"items", nlohmann::json::array()}};
  for (size_t i = 0; i < kPods; ++i) list["items"].push_back(pod_json(i));
  const std::string text = list.dump();

  const auto parse_start = Clock::now();
  auto parsed = pod_list_from_json(text);
  const double parse_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - parse_start).count();
  std::printf("pod list: %zu pods, %.1f KiB of JSON, parsed in %.1f ms (%.1f us per pod)\n",
              parsed->pods.size(), text.size() / 1024.0, parse_ms, parse_ms * 1000 / kPods);

  const size_t before = heap_in_use();
  auto* pods = new PodDirectory();
  pods->replace_all(std::move(parsed->pods));
  const size_t directory_bytes = heap_in_use() - before;
  std::printf("pod directory: %zu bytes per 1,000 pods (%.0f bytes per pod)\n", directory_bytes,
              directory_bytes / double(kPods));

  // Every container of every pod in its own cgroup; records arrive from 1,000 processes.
  std::vector<std::string> paths;
  for (size_t i = 0; i < kPods; ++i) {
    std::string uid = uuid(i);
    for (char& c : uid) c = c == '-' ? '_' : c;
    paths.push_back("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uid +
                    ".slice/cri-containerd-" + hex(i * 31 + 'a', 64) + ".scope");
  }
  WorkloadResolver resolver([&](uint64_t id) -> std::optional<std::string> {
    return id >= 1 && id <= paths.size() ? std::optional(paths[id - 1]) : std::nullopt;
  },
                            {}, pods);
  const size_t before_cache = heap_in_use();
  for (uint32_t i = 0; i < kPods; ++i) resolver.resolve(10000 + i, i + 1);
  const size_t cache_bytes = heap_in_use() - before_cache;
  std::printf("resolver cache: %zu bytes per 1,000 containers (identity objects included)\n",
              cache_bytes);

  constexpr size_t kLookups = 20'000'000;
  size_t named = 0;
  auto start = Clock::now();
  for (size_t n = 0; n < kLookups; ++n) {
    const uint32_t i = static_cast<uint32_t>(n % kPods);
    named += resolver.resolve(10000 + i, i + 1)->pod_known() ? 1 : 0;
  }
  double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / kLookups;
  std::printf("cached resolve: %.1f ns per record (%zu of %zu named a pod)\n", ns, named,
              kLookups);

  // The same through the process identity lookup every record makes.
  ProcessIdentityCache processes("/nonexistent-proc");
  processes.set_workload_resolver(&resolver);
  for (uint32_t i = 0; i < kPods; ++i) processes.lookup(10000 + i, 0, i + 1, "python3");
  start = Clock::now();
  for (size_t n = 0; n < kLookups; ++n) {
    const uint32_t i = static_cast<uint32_t>(n % kPods);
    named += processes.lookup(10000 + i, 0, i + 1, "python3").workload != nullptr ? 1 : 0;
  }
  ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / kLookups;
  std::printf("cached process+workload lookup: %.1f ns per record\n", ns);

  // One pod changes (labels): every cached answer is looked at again once.
  start = Clock::now();
  constexpr int kChanges = 200;
  for (int c = 0; c < kChanges; ++c) {
    auto p = pod_from_json(pod_json(static_cast<size_t>(c)));
    p->labels.emplace_back("rollout", std::to_string(c));
    pods->upsert(std::move(*p));
    for (uint32_t i = 0; i < kPods; ++i) resolver.resolve(10000 + i, i + 1);
  }
  ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / (kChanges * kPods);
  std::printf("after a pod change: %.1f ns per record for the first record of each cgroup\n",
              ns);

  // A miss on this host: the cgroup id of our own cgroup to its path, by file handle.
  CgroupPathReader reader;
  const uint64_t self_id = [] {
    struct stat st {};
    CgroupPathReader r;
    return ::stat(r.v2_root().c_str(), &st) == 0 ? st.st_ino : 0;
  }();
  constexpr int kMisses = 20000;
  start = Clock::now();
  size_t found = 0;
  for (int i = 0; i < kMisses; ++i) found += reader.path_of(self_id) ? 1 : 0;
  ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / kMisses;
  std::printf("cache miss (cgroup id -> path by handle, %s): %.1f us, %zu/%d resolved\n",
              reader.v2_root().c_str(), ns / 1000, found, kMisses);
  delete pods;
  return 0;
}
