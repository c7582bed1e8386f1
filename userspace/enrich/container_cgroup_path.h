#pragma once
// Which container a process runs in, read from its cgroup path alone: container runtimes and
// the kubelet name cgroups after container ids and pod uids, so no runtime socket or API
// server is needed to tell containers apart (only to name them).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmtap::enrich {

enum class ContainerRuntime : uint8_t { kUnknown, kContainerd, kCrio, kDocker, kPodman };

// "containerd", "cri-o", "docker", "podman"; "" for kUnknown.
std::string_view to_string(ContainerRuntime runtime);

struct CgroupContainer {
  std::string id;  // 64 lowercase hex characters
  // kUnknown when the path does not say (kubelet's cgroupfs driver names the cgroup after the
  // bare id whatever the runtime).
  ContainerRuntime runtime = ContainerRuntime::kUnknown;
  // The Kubernetes pod uid with dashes (8-4-4-4-12 lowercase hex), or the 32 hex characters
  // the kubelet gives static pods; empty outside Kubernetes.
  std::string pod_uid;
  std::string qos;  // "guaranteed", "burstable", "besteffort"; empty outside Kubernetes
  bool operator==(const CgroupContainer&) const = default;
};

// The container a cgroup path (as in /proc/PID/cgroup, or relative to a cgroup mount) belongs
// to; nullopt for a host cgroup or anything not recognised. When containers nest (kind, a
// runtime inside a container) the innermost one is returned; sub-cgroups below a container's
// own (init.scope, podman's "container") belong to that container. Never throws; allocates
// only the result.
std::optional<CgroupContainer> parse_container_cgroup_path(std::string_view path);

}  // namespace llmtap::enrich
