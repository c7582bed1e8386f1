#include "enrich/workload_resolver.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llmtap::enrich {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

constexpr char kPodUid[] = "566bf9d7-c55a-45f8-91a6-e55e9b9b1325";
constexpr char kAgentId[] = "84bba07931db925306a0799dc6ebd718b8c764d1c0acb3dea13519a60a077bbd";
constexpr char kSidecarId[] = "142880e8427abeec12975fd55911ea2cbd390b656a4d2bad821df997d529975d";
// The kubelet's systemd driver with containerd.
constexpr char kAgentPath[] =
    "/kubepods.slice/kubepods-burstable.slice/"
    "kubepods-burstable-pod566bf9d7_c55a_45f8_91a6_e55e9b9b1325.slice/"
    "cri-containerd-84bba07931db925306a0799dc6ebd718b8c764d1c0acb3dea13519a60a077bbd.scope";
constexpr char kSidecarPath[] =
    "/kubepods.slice/kubepods-burstable.slice/"
    "kubepods-burstable-pod566bf9d7_c55a_45f8_91a6_e55e9b9b1325.slice/"
    "cri-containerd-142880e8427abeec12975fd55911ea2cbd390b656a4d2bad821df997d529975d.scope";
constexpr char kDockerId[] = "5d9c133d5975e3d1f92f0049f6efb5ea7841cba6dcd9ed85c937eaff7584591d";
constexpr char kDockerPath[] =
    "/system.slice/docker-5d9c133d5975e3d1f92f0049f6efb5ea7841cba6dcd9ed85c937eaff7584591d.scope";

// The v1 pod of a hybrid host (cgroupfs driver: the bare id names no runtime).
constexpr char kV1PodUid[] = "866a725a-e638-415e-9848-d7bbefc58b90";
constexpr char kV1Id[] = "b410e6f58de9b9d56191e28c2f2388dc10da5bffacefd697312bba82af983ead";
constexpr char kV1ProcCgroup[] =
    "12:hugetlb:/kubepods/burstable/pod866a725a-e638-415e-9848-d7bbefc58b90/"
    "b410e6f58de9b9d56191e28c2f2388dc10da5bffacefd697312bba82af983ead\n"
    "11:pids:/kubepods/burstable/pod866a725a-e638-415e-9848-d7bbefc58b90/"
    "b410e6f58de9b9d56191e28c2f2388dc10da5bffacefd697312bba82af983ead\n"
    "4:memory:/kubepods/burstable/pod866a725a-e638-415e-9848-d7bbefc58b90/"
    "b410e6f58de9b9d56191e28c2f2388dc10da5bffacefd697312bba82af983ead\n"
    "1:name=systemd:/kubepods/burstable/pod866a725a-e638-415e-9848-d7bbefc58b90/"
    "b410e6f58de9b9d56191e28c2f2388dc10da5bffacefd697312bba82af983ead\n"
    "0::/\n";
constexpr char kHostProcCgroup[] =
    "12:hugetlb:/\n"
    "4:memory:/user.slice/user-1000.slice/session-3.scope\n"
    "1:name=systemd:/user.slice/user-1000.slice/session-3.scope\n"
    "0::/user.slice/user-1000.slice/session-3.scope\n";

PodRecord agent_pod(Labels labels = {{"app", "agent"}}) {
  PodRecord pod;
  pod.uid = kPodUid;
  pod.name = "agent-7d9f8b6c5-x2k4p";
  pod.namespace_name = "ml";
  pod.node_name = "worker-2";
  pod.service_account = "agent-sa";
  pod.pod_ip = "10.244.2.17";
  pod.resource_version = "100";
  pod.labels = std::move(labels);
  pod.containers.push_back({kAgentId, "containerd", "agent", "ghcr.io/acme/agent:1.4.2",
                            "ghcr.io/acme/agent@sha256:3333"});
  pod.containers.push_back({"", "", "proxy", "envoyproxy/envoy:v1.30.1", ""});  // not started
  return pod;
}

// Cgroup ids to paths, counting lookups; /proc/PID/cgroup texts, counting reads.
struct FakeHost {
  std::map<uint64_t, std::string> paths;
  std::map<uint32_t, std::string> proc_cgroups;
  std::map<uint64_t, int> path_calls;
  std::map<uint32_t, int> proc_reads;

  WorkloadResolver::PathOf path_of() {
    return [this](uint64_t id) -> std::optional<std::string> {
      ++path_calls[id];
      const auto it = paths.find(id);
      if (it == paths.end()) return std::nullopt;
      return it->second;
    };
  }
  WorkloadResolver::ProcCgroup proc_cgroup() {
    return [this](uint32_t pid) {
      ++proc_reads[pid];
      const auto it = proc_cgroups.find(pid);
      return it == proc_cgroups.end() ? std::string() : it->second;
    };
  }
};

TEST(WorkloadResolver, AHostProcessHasNoWorkload) {
  FakeHost host;
  host.paths[7] = "/user.slice/user-1000.slice/session-3.scope";
  host.paths[8] = "/";
  WorkloadResolver resolver(host.path_of(), {}, nullptr);
  EXPECT_EQ(resolver.resolve(100, 7), nullptr);
  EXPECT_EQ(resolver.resolve(101, 8), nullptr);
  EXPECT_EQ(resolver.resolve(102, 7), nullptr);
  EXPECT_EQ(host.path_calls[7], 1);
  EXPECT_EQ(resolver.stats().cgroups_resolved, 2u);
  EXPECT_EQ(resolver.stats().cgroups_unknown, 0u);
  EXPECT_EQ(resolver.stats().proc_cgroup_reads, 0u);
}

TEST(WorkloadResolver, APodContainerWithoutAPodDirectory) {
  FakeHost host;
  host.paths[42] = kAgentPath;
  WorkloadResolver resolver(host.path_of(), {}, nullptr);
  const auto w = resolver.resolve(100, 42);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->container_id, kAgentId);
  EXPECT_EQ(w->container_runtime, "containerd");
  EXPECT_EQ(w->pod_uid, kPodUid);
  EXPECT_EQ(w->pod_name, "");
  EXPECT_EQ(w->pod_namespace, "");
  EXPECT_EQ(w->container_name, "");
  EXPECT_EQ(w->image, "");
  EXPECT_TRUE(w->pod_labels.empty());
  EXPECT_FALSE(w->pod_known());
  EXPECT_FALSE(resolver.pod_pending(*w));  // no directory: nothing to wait for
}

TEST(WorkloadResolver, EachCgroupIsLookedUpOnce) {
  FakeHost host;
  host.paths[42] = kAgentPath;
  host.paths[43] = kSidecarPath;
  WorkloadResolver resolver(host.path_of(), {}, nullptr);
  const auto first = resolver.resolve(100, 42);
  for (uint32_t pid = 100; pid < 150; ++pid) {
    EXPECT_EQ(resolver.resolve(pid, 42), first);
  }
  const auto sidecar = resolver.resolve(200, 43);
  ASSERT_NE(sidecar, nullptr);
  EXPECT_EQ(sidecar->container_id, kSidecarId);
  EXPECT_EQ(host.path_calls[42], 1);
  EXPECT_EQ(host.path_calls[43], 1);
  EXPECT_EQ(resolver.stats().cgroups_resolved, 2u);
  EXPECT_EQ(resolver.cached(), 2u);
}

TEST(WorkloadResolver, ThePodDirectoryNamesPodAndContainer) {
  FakeHost host;
  host.paths[42] = kAgentPath;
  PodDirectory pods;
  pods.upsert(agent_pod({{"app", "agent"}, {"tier", "backend"}}));
  WorkloadResolver resolver(host.path_of(), {}, &pods);
  const auto w = resolver.resolve(100, 42);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->container_id, kAgentId);
  EXPECT_EQ(w->container_runtime, "containerd");
  EXPECT_EQ(w->container_name, "agent");
  EXPECT_EQ(w->image, "ghcr.io/acme/agent:1.4.2");
  EXPECT_EQ(w->image_id, "ghcr.io/acme/agent@sha256:3333");
  EXPECT_EQ(w->pod_uid, kPodUid);
  EXPECT_EQ(w->pod_name, "agent-7d9f8b6c5-x2k4p");
  EXPECT_EQ(w->pod_namespace, "ml");
  EXPECT_EQ(w->node_name, "worker-2");
  EXPECT_EQ(w->service_account, "agent-sa");
  EXPECT_EQ(w->pod_ip, "10.244.2.17");
  EXPECT_EQ(w->pod_labels, (Labels{{"app", "agent"}, {"tier", "backend"}}));
  EXPECT_TRUE(w->pod_known());
  EXPECT_FALSE(resolver.pod_pending(*w));
}

TEST(WorkloadResolver, APodUpdateMakesANewIdentityAndNoChangeKeepsTheOldOne) {
  FakeHost host;
  host.paths[42] = kAgentPath;
  PodDirectory pods;
  pods.upsert(agent_pod({{"app", "agent"}}));
  WorkloadResolver resolver(host.path_of(), {}, &pods);
  const auto first = resolver.resolve(100, 42);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(resolver.resolve(100, 42), first);
  EXPECT_EQ(resolver.resolve(101, 42), first);
  EXPECT_EQ(resolver.stats().pod_refreshes, 0u);

  // Another pod changes: looked at again, but this one is the same.
  PodRecord other;
  other.uid = "0b6f2c1e-8f7a-4d1b-9a3c-2e5d7f9a1b3c";
  other.name = "other";
  pods.upsert(other);
  EXPECT_EQ(resolver.resolve(100, 42), first);
  EXPECT_EQ(resolver.stats().pod_refreshes, 1u);

  pods.upsert(agent_pod({{"app", "agent"}, {"version", "v2"}}));
  const auto second = resolver.resolve(100, 42);
  ASSERT_NE(second, nullptr);
  EXPECT_NE(second, first);
  EXPECT_EQ(second->pod_labels, (Labels{{"app", "agent"}, {"version", "v2"}}));
  EXPECT_EQ(first->pod_labels, (Labels{{"app", "agent"}}));  // records made earlier keep theirs
  EXPECT_EQ(resolver.resolve(100, 42), second);
  EXPECT_EQ(resolver.stats().pod_refreshes, 2u);
  EXPECT_EQ(host.path_calls[42], 1);

  // The pod is deleted: still named (the deleted cache) and unchanged.
  pods.remove(kPodUid);
  EXPECT_EQ(resolver.resolve(100, 42), second);
}

TEST(WorkloadResolver, PodPendingUntilTheDirectoryKnowsThePod) {
  FakeHost host;
  host.paths[42] = kAgentPath;
  host.paths[50] = kDockerPath;
  PodDirectory pods;
  WorkloadResolver resolver(host.path_of(), {}, &pods);
  const auto before = resolver.resolve(100, 42);
  ASSERT_NE(before, nullptr);
  EXPECT_EQ(before->pod_uid, kPodUid);
  EXPECT_FALSE(before->pod_known());
  EXPECT_TRUE(resolver.pod_pending(*before));

  // A container outside Kubernetes has no pod to wait for.
  const auto docker = resolver.resolve(300, 50);
  ASSERT_NE(docker, nullptr);
  EXPECT_EQ(docker->container_id, kDockerId);
  EXPECT_EQ(docker->container_runtime, "docker");
  EXPECT_EQ(docker->pod_uid, "");
  EXPECT_FALSE(resolver.pod_pending(*docker));

  pods.upsert(agent_pod());
  const auto after = resolver.resolve(100, 42);
  ASSERT_NE(after, nullptr);
  EXPECT_TRUE(after->pod_known());
  EXPECT_FALSE(resolver.pod_pending(*after));
  EXPECT_EQ(after->container_name, "agent");
}

TEST(WorkloadResolver, APodKnownBeforeItsContainerStarted) {
  FakeHost host;
  host.paths[42] = kAgentPath;
  PodDirectory pods;
  PodRecord pod = agent_pod();
  pod.containers[0].id = "";  // the status does not list the container yet
  pods.upsert(pod);
  WorkloadResolver resolver(host.path_of(), {}, &pods);
  const auto w = resolver.resolve(100, 42);
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(w->pod_known());
  EXPECT_EQ(w->pod_name, "agent-7d9f8b6c5-x2k4p");
  EXPECT_EQ(w->container_name, "");  // which container is not known yet
  EXPECT_EQ(w->container_runtime, "containerd");

  pods.upsert(agent_pod());
  EXPECT_EQ(resolver.resolve(100, 42)->container_name, "agent");
}

TEST(WorkloadResolver, CgroupV1HierarchiesAreReadOncePerProcess) {
  FakeHost host;
  host.paths[1] = "/";  // a hybrid host: every process is in the v2 root
  host.paths[2] = "/";
  host.proc_cgroups[100] = kV1ProcCgroup;
  host.proc_cgroups[101] = kV1ProcCgroup;
  host.proc_cgroups[102] = kHostProcCgroup;
  WorkloadResolver resolver(host.path_of(), host.proc_cgroup(), nullptr);

  const auto w = resolver.resolve(100, 1);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->container_id, kV1Id);
  EXPECT_EQ(w->container_runtime, "");  // cgroupfs driver: the path does not say
  EXPECT_EQ(w->pod_uid, kV1PodUid);
  EXPECT_EQ(resolver.resolve(100, 1), w);
  EXPECT_EQ(resolver.resolve(100, 1), w);
  EXPECT_EQ(host.proc_reads[100], 1);

  EXPECT_EQ(resolver.resolve(101, 1)->container_id, kV1Id);  // another process: its own read
  EXPECT_EQ(host.proc_reads[101], 1);
  EXPECT_EQ(resolver.resolve(102, 1), nullptr);  // a host process
  EXPECT_EQ(resolver.resolve(102, 1), nullptr);
  EXPECT_EQ(host.proc_reads[102], 1);

  resolver.forget(100);
  EXPECT_EQ(resolver.resolve(100, 1)->container_id, kV1Id);
  EXPECT_EQ(host.proc_reads[100], 2);

  EXPECT_EQ(resolver.resolve(100, 2)->container_id, kV1Id);  // moved to another cgroup
  EXPECT_EQ(host.proc_reads[100], 3);
  EXPECT_EQ(resolver.resolve(100, 2)->container_id, kV1Id);
  EXPECT_EQ(host.proc_reads[100], 3);

  EXPECT_EQ(resolver.stats().proc_cgroup_reads, 5u);
  EXPECT_EQ(host.path_calls[1], 1);
  EXPECT_EQ(host.path_calls[2], 1);
}

TEST(WorkloadResolver, AV1AnswerFollowsThePodDirectory) {
  FakeHost host;
  host.paths[1] = "/";
  host.proc_cgroups[100] = kV1ProcCgroup;
  PodDirectory pods;
  WorkloadResolver resolver(host.path_of(), host.proc_cgroup(), &pods);
  const auto before = resolver.resolve(100, 1);
  ASSERT_NE(before, nullptr);
  EXPECT_TRUE(resolver.pod_pending(*before));

  PodRecord pod;
  pod.uid = kV1PodUid;
  pod.name = "legacy-0";
  pod.containers.push_back({kV1Id, "docker", "legacy", "legacy:1", "sha256:55"});
  pods.upsert(pod);
  const auto after = resolver.resolve(100, 1);
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->pod_name, "legacy-0");
  EXPECT_EQ(after->container_name, "legacy");
  EXPECT_EQ(after->container_runtime, "docker");  // from the pod status, the path named none
  EXPECT_EQ(host.proc_reads[100], 1);
}

TEST(WorkloadResolver, AContainerInTheV2CgroupReadsNoProcCgroup) {
  FakeHost host;
  host.paths[42] = kAgentPath;
  host.proc_cgroups[100] = kV1ProcCgroup;
  WorkloadResolver resolver(host.path_of(), host.proc_cgroup(), nullptr);
  EXPECT_EQ(resolver.resolve(100, 42)->container_id, kAgentId);
  EXPECT_EQ(resolver.resolve(101, 42)->container_id, kAgentId);
  EXPECT_TRUE(host.proc_reads.empty());
  EXPECT_EQ(resolver.stats().proc_cgroup_reads, 0u);
}

TEST(WorkloadResolver, APureV2HostNeverReadsProc) {
  FakeHost host;
  host.paths[1] = "/";
  host.paths[7] = "/user.slice/user-1000.slice/session-3.scope";
  WorkloadResolver resolver(host.path_of(), {}, nullptr);
  for (uint32_t pid = 100; pid < 110; ++pid) {
    EXPECT_EQ(resolver.resolve(pid, 1), nullptr);
    EXPECT_EQ(resolver.resolve(pid, 7), nullptr);
  }
  EXPECT_EQ(resolver.stats().proc_cgroup_reads, 0u);
  EXPECT_EQ(resolver.cached(), 2u);
}

TEST(WorkloadResolver, UnknownCgroupsAreCounted) {
  FakeHost host;  // knows no path
  WorkloadResolver resolver(host.path_of(), {}, nullptr);
  EXPECT_EQ(resolver.resolve(100, 0), nullptr);
  EXPECT_EQ(resolver.resolve(100, 0), nullptr);
  EXPECT_EQ(host.path_calls.count(0), 0u);  // id 0 is never looked up
  EXPECT_EQ(resolver.resolve(100, 99), nullptr);
  EXPECT_EQ(resolver.resolve(101, 99), nullptr);
  EXPECT_EQ(host.path_calls[99], 1);
  EXPECT_EQ(resolver.stats().cgroups_resolved, 2u);
  EXPECT_EQ(resolver.stats().cgroups_unknown, 2u);
}

TEST(WorkloadResolver, UnknownCgroupOnAHybridHostFallsBackToProc) {
  FakeHost host;
  host.proc_cgroups[100] = kHostProcCgroup;
  WorkloadResolver resolver(host.path_of(), host.proc_cgroup(), nullptr);
  EXPECT_EQ(resolver.resolve(100, 0), nullptr);
  EXPECT_EQ(resolver.stats().cgroups_unknown, 1u);
  EXPECT_EQ(host.proc_reads[100], 1);
}

TEST(WorkloadResolver, TheCacheIsClearedWhenFull) {
  FakeHost host;
  host.paths[42] = kAgentPath;
  host.paths[43] = kSidecarPath;
  host.paths[50] = kDockerPath;
  WorkloadResolver resolver(host.path_of(), {}, nullptr, /*max_entries=*/2);
  const auto agent = resolver.resolve(100, 42);
  resolver.resolve(101, 43);
  EXPECT_EQ(resolver.cached(), 2u);
  EXPECT_EQ(resolver.stats().evictions, 0u);

  EXPECT_EQ(resolver.resolve(102, 50)->container_id, kDockerId);
  EXPECT_EQ(resolver.stats().evictions, 2u);
  EXPECT_EQ(resolver.cached(), 1u);

  const auto again = resolver.resolve(100, 42);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->container_id, kAgentId);
  EXPECT_EQ(host.path_calls[42], 2);
  EXPECT_EQ(resolver.stats().cgroups_resolved, 4u);
  EXPECT_EQ(agent->container_id, kAgentId);  // handed-out identities outlive the cache
}

TEST(WorkloadResolver, PerProcessAnswersAreBoundedToo) {
  FakeHost host;
  host.paths[1] = "/";
  for (uint32_t pid = 100; pid < 104; ++pid) host.proc_cgroups[pid] = kV1ProcCgroup;
  WorkloadResolver resolver(host.path_of(), host.proc_cgroup(), nullptr, /*max_entries=*/2);
  resolver.resolve(100, 1);
  resolver.resolve(101, 1);
  EXPECT_EQ(resolver.stats().evictions, 0u);
  resolver.resolve(102, 1);
  EXPECT_EQ(resolver.stats().evictions, 2u);
  resolver.resolve(100, 1);  // forgotten with the rest: read again
  EXPECT_EQ(host.proc_reads[100], 2);
}

TEST(WorkloadResolver, RefreshedNamesAPodLearnedLater) {
  FakeHost host;
  host.paths[42] = kAgentPath;
  PodDirectory pods;
  WorkloadResolver resolver(host.path_of(), {}, &pods);
  const auto before = resolver.resolve(100, 42);
  ASSERT_NE(before, nullptr);
  EXPECT_EQ(resolver.refreshed(before), before);  // nothing new: the same pointer
  EXPECT_EQ(resolver.refreshed(nullptr), nullptr);

  pods.upsert(agent_pod({{"app", "agent"}}));
  const auto after = resolver.refreshed(before);
  ASSERT_NE(after, nullptr);
  EXPECT_NE(after, before);
  EXPECT_FALSE(before->pod_known());  // the old one is not changed in place
  EXPECT_TRUE(after->pod_known());
  EXPECT_FALSE(resolver.pod_pending(*after));
  EXPECT_EQ(after->container_id, kAgentId);
  EXPECT_EQ(after->container_runtime, "containerd");
  EXPECT_EQ(after->container_name, "agent");
  EXPECT_EQ(after->image, "ghcr.io/acme/agent:1.4.2");
  EXPECT_EQ(after->pod_uid, kPodUid);
  EXPECT_EQ(after->pod_name, "agent-7d9f8b6c5-x2k4p");
  EXPECT_EQ(after->pod_namespace, "ml");
  EXPECT_EQ(after->pod_labels, (Labels{{"app", "agent"}}));
}

TEST(WorkloadResolver, RefreshedKeepsTheRuntimeThePathNamed) {
  FakeHost host;
  host.paths[42] = kAgentPath;
  PodDirectory pods;
  WorkloadResolver resolver(host.path_of(), {}, &pods);
  const auto before = resolver.resolve(100, 42);
  PodRecord pod = agent_pod();
  pod.containers.clear();  // known by uid only: no status names a runtime
  pods.upsert(pod);
  const auto after = resolver.refreshed(before);
  ASSERT_NE(after, nullptr);
  EXPECT_TRUE(after->pod_known());
  EXPECT_EQ(after->container_runtime, "containerd");
  EXPECT_EQ(after->container_id, kAgentId);
  EXPECT_EQ(after->container_name, "");
}

TEST(WorkloadResolver, RefreshedWithoutADirectoryIsTheSame) {
  FakeHost host;
  host.paths[42] = kAgentPath;
  WorkloadResolver resolver(host.path_of(), {}, nullptr);
  const auto w = resolver.resolve(100, 42);
  EXPECT_EQ(resolver.refreshed(w), w);
}

TEST(ContainerFromProcCgroup, RealTexts) {
  // cgroup v2 only.
  const auto v2 = container_from_proc_cgroup(std::string("0::") + kAgentPath + "\n");
  ASSERT_TRUE(v2.has_value());
  EXPECT_EQ(v2->id, kAgentId);
  EXPECT_EQ(v2->runtime, ContainerRuntime::kContainerd);
  EXPECT_EQ(v2->pod_uid, kPodUid);
  EXPECT_EQ(v2->qos, "burstable");

  // v1 hierarchies, cgroupfs driver; the v2 line names nothing.
  const auto v1 = container_from_proc_cgroup(kV1ProcCgroup);
  ASSERT_TRUE(v1.has_value());
  EXPECT_EQ(v1->id, kV1Id);
  EXPECT_EQ(v1->runtime, ContainerRuntime::kUnknown);
  EXPECT_EQ(v1->pod_uid, kV1PodUid);

  // Docker on a v1 host, no trailing newline.
  const auto docker = container_from_proc_cgroup(
      "11:cpuset:/docker/3350b233931da53f50a0be52d057e0bd04ab3005440698c83998e1705bb7a7af\n"
      "2:cpu,cpuacct:/docker/3350b233931da53f50a0be52d057e0bd04ab3005440698c83998e1705bb7a7af");
  ASSERT_TRUE(docker.has_value());
  EXPECT_EQ(docker->id, "3350b233931da53f50a0be52d057e0bd04ab3005440698c83998e1705bb7a7af");
  EXPECT_EQ(docker->pod_uid, "");

  // containerd's systemd cgroup with colons in the path itself.
  const auto colons = container_from_proc_cgroup(
      "5:devices:/system.slice/containerd.service/"
      "kubepods-burstable-poda3d3da0d_17e1_4204_8d2d_b28e371a512d.slice:cri-containerd:"
      "646ffa9204c1c9eeb488c6daa9b7fcd3ce2818f26ff6bff254199c973226b722\n");
  ASSERT_TRUE(colons.has_value());
  EXPECT_EQ(colons->id, "646ffa9204c1c9eeb488c6daa9b7fcd3ce2818f26ff6bff254199c973226b722");
  EXPECT_EQ(colons->runtime, ContainerRuntime::kContainerd);
  EXPECT_EQ(colons->pod_uid, "a3d3da0d-17e1-4204-8d2d-b28e371a512d");

  // The first line naming a container wins.
  const auto first = container_from_proc_cgroup(
      std::string("1:name=systemd:/user.slice\n3:memory:") + kDockerPath + "\n0::" + kAgentPath);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, kDockerId);

  EXPECT_FALSE(container_from_proc_cgroup(kHostProcCgroup).has_value());
  EXPECT_FALSE(container_from_proc_cgroup("0::/\n").has_value());
  EXPECT_FALSE(container_from_proc_cgroup("").has_value());
  EXPECT_FALSE(container_from_proc_cgroup("\n\n\n").has_value());
  // Lines without two colons are not read as paths.
  EXPECT_FALSE(container_from_proc_cgroup(std::string("garbage ") + kAgentPath).has_value());
  EXPECT_FALSE(container_from_proc_cgroup(std::string("0:") + kAgentPath).has_value());
}

}  // namespace
}  // namespace llmtap::enrich
