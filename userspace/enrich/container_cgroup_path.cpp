#include "enrich/container_cgroup_path.h"

#include <algorithm>
#include <array>
#include <cstddef>

namespace llmtap::enrich {
namespace {

constexpr size_t kContainerIdLength = 64;
constexpr size_t kPodUuidLength = 36;       // 8-4-4-4-12
constexpr size_t kStaticPodUidLength = 32;  // the kubelet's md5 of a static pod's manifest
// The kernel writes /proc/PID/cgroup from a PATH_MAX buffer: a longer path was not read there.
constexpr size_t kMaxPathBytes = 4096;

constexpr std::string_view kGuaranteed = "guaranteed";
constexpr std::string_view kBurstable = "burstable";
constexpr std::string_view kBestEffort = "besteffort";

// Runtimes write ids in lowercase; accepting other case would let two spellings name one
// container.
bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool is_lower_hex(std::string_view text) {
  return std::ranges::all_of(text, [](char c) { return is_lower_hex(c); });
}

bool is_container_id(std::string_view text) {
  return text.size() == kContainerIdLength && is_lower_hex(text);
}

// A pod uid as the kubelet writes it into cgroup names: a UUID whose dashes are `separator`
// ('-' under the cgroupfs driver, '_' in systemd unit names), or a static pod's 32 hex.
bool is_pod_uid(std::string_view uid, char separator) {
  if (uid.size() == kStaticPodUidLength) return is_lower_hex(uid);
  if (uid.size() != kPodUuidLength) return false;
  for (size_t i = 0; i < uid.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? uid[i] != separator : !is_lower_hex(uid[i])) return false;
  }
  return true;
}

// `name` is `<prefix><container id><suffix>`.
bool id_between(std::string_view name, std::string_view prefix, std::string_view suffix,
                std::string_view& id) {
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return false;
  if (name.size() < prefix.size() + suffix.size()) return false;
  const std::string_view middle =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (!is_container_id(middle)) return false;
  id = middle;
  return true;
}

struct PodRef {
  std::string_view uid;  // as written in the cgroup name
  char separator = '-';
  std::string_view qos;
};

// A cgroup that names a pod with a uid we cannot read means a layout we do not understand:
// the caller then reports nothing rather than a container without its pod.
enum class PodMatch { kNone, kPod, kMalformed };

struct PodLookup {
  PodMatch match = PodMatch::kNone;
  PodRef pod;
};

PodLookup pod_with_uid(std::string_view uid, char separator, std::string_view qos) {
  if (!is_pod_uid(uid, separator)) return {PodMatch::kMalformed, {}};
  return {PodMatch::kPod, {uid, separator, qos}};
}

// kubelet's systemd driver: kubepods-burstable-pod<uid_>.slice, kubepods-besteffort-pod...,
// and kubepods-pod<uid_>.slice for guaranteed pods. Slice names spell their ancestry with
// dashes; kind's kubelet adds a "kubelet-" level above kubepods.
PodLookup systemd_pod_slice(std::string_view name) {
  if (!name.ends_with(".slice")) return {};
  name.remove_suffix(std::string_view(".slice").size());
  constexpr std::string_view kKubepods = "kubepods";
  size_t at = name.find(kKubepods);
  while (at != std::string_view::npos && at != 0 && name[at - 1] != '-') {
    at = name.find(kKubepods, at + 1);
  }
  if (at == std::string_view::npos) return {};
  std::string_view rest = name.substr(at + kKubepods.size());
  std::string_view qos = kGuaranteed;
  for (std::string_view level : {kBurstable, kBestEffort}) {
    if (rest.starts_with('-') && rest.substr(1).starts_with(level)) {
      qos = level;
      rest.remove_prefix(1 + level.size());
      break;
    }
  }
  // Anything else after kubepods (the QoS slices themselves) is not a pod.
  if (!rest.starts_with("-pod")) return {};
  return pod_with_uid(rest.substr(4), '_', qos);
}

// kubelet's cgroupfs driver: kubepods/burstable/pod<uid>, kubepods/besteffort/pod<uid>, and
// kubepods/pod<uid> for guaranteed pods.
PodLookup cgroupfs_pod_dir(std::string_view name, std::string_view parent,
                           std::string_view grandparent) {
  if (!name.starts_with("pod")) return {};
  std::string_view qos;
  if (parent == "kubepods") {
    qos = kGuaranteed;
  } else if ((parent == kBurstable || parent == kBestEffort) && grandparent == "kubepods") {
    qos = parent == kBurstable ? kBurstable : kBestEffort;
  } else {
    return {};
  }
  return pod_with_uid(name.substr(3), '-', qos);
}

// The pod a container's cgroup sits in: the kubelet puts containers directly in the pod's.
PodLookup parent_pod(const std::array<std::string_view, 4>& chain) {
  const PodLookup slice = systemd_pod_slice(chain[1]);
  if (slice.match != PodMatch::kNone) return slice;
  return cgroupfs_pod_dir(chain[1], chain[2], chain[3]);
}

enum class Verdict { kNotContainer, kContainer, kReject };

struct Match {
  Verdict verdict = Verdict::kNotContainer;
  std::string_view id;
  ContainerRuntime runtime = ContainerRuntime::kUnknown;
  PodRef pod;
};

Match with_pod(std::string_view id, ContainerRuntime runtime, const PodLookup& pod) {
  switch (pod.match) {
    case PodMatch::kNone:
      return {Verdict::kContainer, id, runtime, {}};
    case PodMatch::kPod:
      return {Verdict::kContainer, id, runtime, pod.pod};
    case PodMatch::kMalformed:
      break;
  }
  return {Verdict::kReject, {}, ContainerRuntime::kUnknown, {}};
}

// chain[0] is the component looked at, chain[1..3] its parent, grandparent and great-
// grandparent ("" above the root).
Match container_in(const std::array<std::string_view, 4>& chain) {
  const std::string_view name = chain[0];
  std::string_view id;

  // containerd with kubelet's systemd driver but cgroupfs runc (SystemdCgroup = false): the
  // runc cgroupsPath "<pod slice>:cri-containerd:<id>" becomes one directory name.
  if (const size_t colon = name.find(':'); colon != std::string_view::npos) {
    if (!id_between(name.substr(colon), ":cri-containerd:", "", id)) return {};
    const PodLookup pod = systemd_pod_slice(name.substr(0, colon));
    if (pod.match == PodMatch::kNone) return {};  // only the kubelet writes this form
    return with_pod(id, ContainerRuntime::kContainerd, pod);
  }

  // The conmon monitors (libpod-conmon-<id>, crio-conmon-<id>) fail the id check: not ours.
  ContainerRuntime runtime = ContainerRuntime::kUnknown;
  if (id_between(name, "cri-containerd-", ".scope", id)) {
    runtime = ContainerRuntime::kContainerd;
  } else if (id_between(name, "crio-", ".scope", id) || id_between(name, "crio-", "", id)) {
    runtime = ContainerRuntime::kCrio;
  } else if (id_between(name, "docker-", ".scope", id)) {
    runtime = ContainerRuntime::kDocker;
  } else if (id_between(name, "libpod-", ".scope", id) || id_between(name, "libpod-", "", id)) {
    runtime = ContainerRuntime::kPodman;
  } else if (is_container_id(name)) {
    // A bare id is a container only where a runtime puts one: docker's cgroupfs driver
    // (/docker/<id>) and kubelet's (.../pod<uid>/<id>, any runtime).
    id = name;
    if (chain[1] == "docker") {
      runtime = ContainerRuntime::kDocker;
    } else if (cgroupfs_pod_dir(chain[1], chain[2], chain[3]).match == PodMatch::kNone) {
      return {};
    }
  } else {
    return {};
  }
  return with_pod(id, runtime, parent_pod(chain));
}

// The components of a path from the last to the first, skipping empty ones ("a//b", "b/"):
// they do not change which cgroup the path names.
class ComponentsFromEnd {
 public:
  explicit ComponentsFromEnd(std::string_view path) : rest_(path) {}

  std::string_view next() {
    while (!rest_.empty()) {
      const size_t slash = rest_.rfind('/');
      const std::string_view component =
          slash == std::string_view::npos ? rest_ : rest_.substr(slash + 1);
      rest_ = slash == std::string_view::npos ? std::string_view() : rest_.substr(0, slash);
      if (!component.empty()) return component;
    }
    return {};
  }

 private:
  std::string_view rest_;
};

// "." and ".." would make the path name another cgroup than the one it spells; the kernel
// never writes them.
bool has_dot_component(std::string_view path) {
  ComponentsFromEnd components(path);
  for (std::string_view c = components.next(); !c.empty(); c = components.next()) {
    if (c == "." || c == "..") return true;
  }
  return false;
}

CgroupContainer to_container(const Match& match) {
  CgroupContainer out;
  out.id = match.id;
  out.runtime = match.runtime;
  if (!match.pod.uid.empty()) {
    out.pod_uid = match.pod.uid;
    std::ranges::replace(out.pod_uid, match.pod.separator, '-');
    out.qos = match.pod.qos;
  }
  return out;
}

}  // namespace

std::string_view to_string(ContainerRuntime runtime) {
  switch (runtime) {
    case ContainerRuntime::kContainerd:
      return "containerd";
    case ContainerRuntime::kCrio:
      return "cri-o";
    case ContainerRuntime::kDocker:
      return "docker";
    case ContainerRuntime::kPodman:
      return "podman";
    case ContainerRuntime::kUnknown:
      break;
  }
  return "";
}

std::optional<CgroupContainer> parse_container_cgroup_path(std::string_view path) {
  if (path.empty() || path.size() > kMaxPathBytes) return std::nullopt;
  if (path.find('\0') != std::string_view::npos || has_dot_component(path)) return std::nullopt;

  // The innermost container wins: walk up from the last component, keeping its ancestors in
  // view for the pod and runtime they imply.
  ComponentsFromEnd components(path);
  std::array<std::string_view, 4> chain;
  for (std::string_view& c : chain) c = components.next();
  while (!chain[0].empty()) {
    const Match match = container_in(chain);
    if (match.verdict == Verdict::kReject) return std::nullopt;
    if (match.verdict == Verdict::kContainer) return to_container(match);
    chain = {chain[1], chain[2], chain[3], components.next()};
  }
  return std::nullopt;
}

}  // namespace llmtap::enrich
