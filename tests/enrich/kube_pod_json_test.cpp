#include "enrich/kube_pod_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llmtap::enrich {
namespace {

using nlohmann::json;
using Labels = std::vector<std::pair<std::string, std::string>>;

constexpr char kAppId[] = "84bba07931db925306a0799dc6ebd718b8c764d1c0acb3dea13519a60a077bbd";
constexpr char kProxyId[] = "142880e8427abeec12975fd55911ea2cbd390b656a4d2bad821df997d529975d";
constexpr char kInitId[] = "de0703b4ab7ed013e50181d960e9558c1530a493afbb8b64cb580fac27cd8995";
constexpr char kDebugId[] = "0641e1f037860cf29ae36563d8b6da25a43a846eb31e7ea468c6414ce9da201e";

// A v1 Pod as the API server sends it (trimmed, but with the parts llmtap skips).
constexpr char kPod[] = R"({
  "kind": "Pod",
  "apiVersion": "v1",
  "metadata": {
    "name": "agent-7d9f8b6c5-x2k4p",
    "generateName": "agent-7d9f8b6c5-",
    "namespace": "ml",
    "uid": "566bf9d7-c55a-45f8-91a6-e55e9b9b1325",
    "resourceVersion": "918273",
    "creationTimestamp": "2024-05-02T10:11:12Z",
    "labels": {
      "pod-template-hash": "7d9f8b6c5",
      "app.kubernetes.io/name": "agent",
      "tier": "backend",
      "app": "agent"
    },
    "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T00:00:00Z"},
    "ownerReferences": [{
      "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "agent-7d9f8b6c5",
      "uid": "0b6f2c1e-8f7a-4d1b-9a3c-2e5d7f9a1b3c", "controller": true,
      "blockOwnerDeletion": true
    }],
    "managedFields": [{
      "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
      "time": "2024-05-02T10:11:12Z", "fieldsType": "FieldsV1",
      "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}
    }]
  },
  "spec": {
    "initContainers": [{"name": "init-db", "image": "busybox:1.36",
                        "command": ["sh", "-c", "until nslookup db; do sleep 1; done"]}],
    "containers": [
      {"name": "app", "image": "ghcr.io/acme/agent:1.4.2",
       "ports": [{"containerPort": 8080, "protocol": "TCP"}],
       "resources": {"limits": {"cpu": "1", "memory": "512Mi"}}},
      {"name": "proxy", "image": "envoyproxy/envoy:v1.30.1"},
      {"name": "metrics", "image": "prom/statsd-exporter:v0.26.0"}
    ],
    "ephemeralContainers": [{"name": "debugger-abc12", "image": "nicolaka/netshoot",
                             "targetContainerName": "app"}],
    "nodeName": "worker-2",
    "serviceAccountName": "agent-sa",
    "restartPolicy": "Always"
  },
  "status": {
    "phase": "Running",
    "hostIP": "10.0.1.12",
    "podIP": "10.244.2.17",
    "podIPs": [{"ip": "10.244.2.17"}],
    "initContainerStatuses": [{
      "name": "init-db", "image": "docker.io/library/busybox:1.36",
      "imageID": "docker.io/library/busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111",
      "containerID": "containerd://de0703b4ab7ed013e50181d960e9558c1530a493afbb8b64cb580fac27cd8995",
      "ready": true, "restartCount": 0,
      "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}
    }],
    "containerStatuses": [
      {"name": "proxy", "image": "docker.io/envoyproxy/envoy:v1.30.1",
       "imageID": "docker.io/envoyproxy/envoy@sha256:2222222222222222222222222222222222222222222222222222222222222222",
       "containerID": "containerd://142880e8427abeec12975fd55911ea2cbd390b656a4d2bad821df997d529975d",
       "ready": true, "restartCount": 1, "started": true,
       "state": {"running": {"startedAt": "2024-05-02T10:11:20Z"}}},
      {"name": "app", "image": "ghcr.io/acme/agent:1.4.2",
       "imageID": "ghcr.io/acme/agent@sha256:3333333333333333333333333333333333333333333333333333333333333333",
       "containerID": "containerd://84bba07931db925306a0799dc6ebd718b8c764d1c0acb3dea13519a60a077bbd",
       "ready": true, "restartCount": 0, "started": true,
       "state": {"running": {"startedAt": "2024-05-02T10:11:19Z"}}},
      {"name": "metrics", "image": "prom/statsd-exporter:v0.26.0", "imageID": "",
       "ready": false, "restartCount": 0, "started": false,
       "state": {"waiting": {"reason": "ContainerCreating"}}}
    ],
    "ephemeralContainerStatuses": [{
      "name": "debugger-abc12", "image": "docker.io/nicolaka/netshoot:latest",
      "imageID": "docker.io/nicolaka/netshoot@sha256:4444444444444444444444444444444444444444444444444444444444444444",
      "containerID": "cri-o://0641e1f037860cf29ae36563d8b6da25a43a846eb31e7ea468c6414ce9da201e",
      "state": {"running": {"startedAt": "2024-05-02T11:00:00Z"}}
    }]
  }
})";

TEST(PodFromJson, ARealisticPod) {
  const auto pod = pod_from_json(json::parse(kPod));
  ASSERT_TRUE(pod.has_value());
  EXPECT_EQ(pod->uid, "566bf9d7-c55a-45f8-91a6-e55e9b9b1325");
  EXPECT_EQ(pod->name, "agent-7d9f8b6c5-x2k4p");
  EXPECT_EQ(pod->namespace_name, "ml");
  EXPECT_EQ(pod->node_name, "worker-2");
  EXPECT_EQ(pod->service_account, "agent-sa");
  EXPECT_EQ(pod->pod_ip, "10.244.2.17");
  EXPECT_EQ(pod->resource_version, "918273");
  EXPECT_EQ(pod->labels, (Labels{{"app", "agent"},
                                 {"app.kubernetes.io/name", "agent"},
                                 {"pod-template-hash", "7d9f8b6c5"},
                                 {"tier", "backend"}}));

  // Regular containers in spec order (statuses matched by name), then init, then ephemeral.
  ASSERT_EQ(pod->containers.size(), 5u);
  const PodContainer& app = pod->containers[0];
  EXPECT_EQ(app.name, "app");
  EXPECT_EQ(app.id, kAppId);
  EXPECT_EQ(app.runtime, "containerd");
  EXPECT_EQ(app.image, "ghcr.io/acme/agent:1.4.2");
  EXPECT_EQ(
      app.image_id,
      "ghcr.io/acme/agent@sha256:3333333333333333333333333333333333333333333333333333333333333333");

  const PodContainer& proxy = pod->containers[1];
  EXPECT_EQ(proxy.name, "proxy");
  EXPECT_EQ(proxy.id, kProxyId);
  EXPECT_EQ(proxy.runtime, "containerd");
  EXPECT_EQ(proxy.image, "envoyproxy/envoy:v1.30.1");  // the spec's name, not the status's
  EXPECT_EQ(proxy.image_id,
            "docker.io/envoyproxy/"
            "envoy@sha256:2222222222222222222222222222222222222222222222222222222222222222");

  const PodContainer& metrics = pod->containers[2];  // not started: no id yet
  EXPECT_EQ(metrics.name, "metrics");
  EXPECT_EQ(metrics.id, "");
  EXPECT_EQ(metrics.runtime, "");
  EXPECT_EQ(metrics.image, "prom/statsd-exporter:v0.26.0");
  EXPECT_EQ(metrics.image_id, "");

  const PodContainer& init = pod->containers[3];
  EXPECT_EQ(init.name, "init-db");
  EXPECT_EQ(init.id, kInitId);
  EXPECT_EQ(init.runtime, "containerd");
  EXPECT_EQ(init.image, "busybox:1.36");

  const PodContainer& debug = pod->containers[4];
  EXPECT_EQ(debug.name, "debugger-abc12");
  EXPECT_EQ(debug.id, kDebugId);
  EXPECT_EQ(debug.runtime, "cri-o");
  EXPECT_EQ(debug.image, "nicolaka/netshoot");
  EXPECT_EQ(debug.image_id,
            "docker.io/nicolaka/"
            "netshoot@sha256:4444444444444444444444444444444444444444444444444444444444444444");
}

TEST(PodFromJson, AStatusWithoutASpecEntryStillCountsAndAnIdWithoutSchemeHasNoRuntime) {
  const auto pod = pod_from_json(json::parse(R"({
    "metadata": {"uid": "u1"},
    "status": {"containerStatuses": [
      {"name": "side", "image": "side:1", "imageID": "sha256:ab", "containerID": "abcdef"}]}
  })"));
  ASSERT_TRUE(pod.has_value());
  ASSERT_EQ(pod->containers.size(), 1u);
  EXPECT_EQ(pod->containers[0].name, "side");
  EXPECT_EQ(pod->containers[0].image, "side:1");
  EXPECT_EQ(pod->containers[0].image_id, "sha256:ab");
  EXPECT_EQ(pod->containers[0].id, "abcdef");
  EXPECT_EQ(pod->containers[0].runtime, "");
  EXPECT_EQ(pod->name, "");
  EXPECT_TRUE(pod->labels.empty());
}

TEST(PodFromJson, NoUidIsNoPod) {
  EXPECT_FALSE(pod_from_json(json::parse(R"({"metadata": {"name": "x", "namespace": "y"}})")));
  EXPECT_FALSE(pod_from_json(json::parse(R"({"metadata": {"uid": ""}})")));
  EXPECT_FALSE(pod_from_json(json::parse(R"({"metadata": {"uid": 12345}})")));
  EXPECT_FALSE(pod_from_json(json::parse(R"({"metadata": "uid"})")));
  EXPECT_FALSE(pod_from_json(json::parse(R"({})")));
  EXPECT_FALSE(pod_from_json(json::parse(R"([{"metadata": {"uid": "u"}}])")));
  EXPECT_FALSE(pod_from_json(json::parse(R"("pod")")));
  EXPECT_FALSE(pod_from_json(json()));
}

TEST(PodFromJson, WrongTypesAreSkippedNotThrown) {
  const json pod_json = json::parse(R"({
    "metadata": {"uid": "u2", "name": 7, "namespace": ["ml"], "resourceVersion": 99,
                 "labels": ["app", "agent"]},
    "spec": {"containers": {"name": "app", "image": "x"}, "initContainers": "none",
             "nodeName": {"name": "worker"}, "serviceAccountName": true},
    "status": {"podIP": 10, "containerStatuses": {"name": "app"},
               "ephemeralContainerStatuses": null}
  })");
  std::optional<PodRecord> pod;
  ASSERT_NO_THROW(pod = pod_from_json(pod_json));
  ASSERT_TRUE(pod.has_value());
  EXPECT_EQ(pod->uid, "u2");
  EXPECT_EQ(pod->name, "");
  EXPECT_EQ(pod->namespace_name, "");
  EXPECT_EQ(pod->resource_version, "");
  EXPECT_EQ(pod->node_name, "");
  EXPECT_EQ(pod->service_account, "");
  EXPECT_EQ(pod->pod_ip, "");
  EXPECT_TRUE(pod->labels.empty());
  EXPECT_TRUE(pod->containers.empty());
}

TEST(PodFromJson, MistypedValuesInsideListsAndMaps) {
  const json pod_json = json::parse(R"({
    "metadata": {"uid": "u3", "labels": {"b": "2", "a": 1, "c": null, "d": "4"}},
    "spec": "not an object",
    "status": {"containerStatuses": [
      {"name": "app", "containerID": 42, "imageID": ["x"], "image": {"i": 1}},
      {"name": "web", "containerID": "containerd://aa"}]}
  })");
  std::optional<PodRecord> pod;
  ASSERT_NO_THROW(pod = pod_from_json(pod_json));
  ASSERT_TRUE(pod.has_value());
  EXPECT_EQ(pod->labels, (Labels{{"b", "2"}, {"d", "4"}}));
  ASSERT_EQ(pod->containers.size(), 2u);
  EXPECT_EQ(pod->containers[0].name, "app");
  EXPECT_EQ(pod->containers[0].id, "");
  EXPECT_EQ(pod->containers[0].image, "");
  EXPECT_EQ(pod->containers[0].image_id, "");
  EXPECT_EQ(pod->containers[1].name, "web");
  EXPECT_EQ(pod->containers[1].id, "aa");
  EXPECT_EQ(pod->containers[1].runtime, "containerd");
}

std::string pod_item(const std::string& uid, const std::string& name) {
  json item = {{"metadata", {{"name", name}, {"namespace", "ml"}, {"resourceVersion", "5"}}},
               {"spec", {{"nodeName", "worker-2"}}}};
  if (!uid.empty()) item["metadata"]["uid"] = uid;
  return item.dump();
}

TEST(PodListFromJson, ItemsResourceVersionAndContinue) {
  const std::string text = R"({"kind": "PodList", "apiVersion": "v1",
    "metadata": {"resourceVersion": "918300", "continue": "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ",
                 "remainingItemCount": 40},
    "items": [)" + pod_item("uid-a", "a") +
                           "," + pod_item("", "no-uid") + "," + pod_item("uid-c", "c") + "]}";
  const auto list = pod_list_from_json(text);
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->resource_version, "918300");
  EXPECT_EQ(list->continue_token, "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ");
  ASSERT_EQ(list->pods.size(), 2u);
  EXPECT_EQ(list->pods[0].uid, "uid-a");
  EXPECT_EQ(list->pods[0].name, "a");
  EXPECT_EQ(list->pods[0].node_name, "worker-2");
  EXPECT_EQ(list->pods[1].uid, "uid-c");
  EXPECT_EQ(list->pods[1].name, "c");
}

TEST(PodListFromJson, AnEmptyLastPage) {
  const auto list = pod_list_from_json(
      R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[]})");
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->resource_version, "7");
  EXPECT_EQ(list->continue_token, "");
  EXPECT_TRUE(list->pods.empty());
  // "items": null is what a server sends for no pods in some versions.
  const auto null_items =
      pod_list_from_json(R"({"kind":"PodList","metadata":{"resourceVersion":"8"},"items":null})");
  ASSERT_TRUE(null_items.has_value());
  EXPECT_TRUE(null_items->pods.empty());
}

TEST(PodListFromJson, NotAPodList) {
  EXPECT_FALSE(pod_list_from_json(
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"forbidden","code":403})"));
  EXPECT_FALSE(pod_list_from_json(R"({"kind":"Pod","metadata":{"uid":"u"}})"));
  EXPECT_FALSE(pod_list_from_json(R"({"items":[]})"));
  EXPECT_FALSE(pod_list_from_json(R"({"kind":["PodList"]})"));
  EXPECT_FALSE(pod_list_from_json(R"(["PodList"])"));
  EXPECT_FALSE(pod_list_from_json(""));
  EXPECT_FALSE(pod_list_from_json("<html>502 Bad Gateway</html>"));
  EXPECT_FALSE(pod_list_from_json(R"({"kind":"PodList","items":[)"));
}

std::string watch_line(const std::string& type, const std::string& rv) {
  json event = {{"type", type},
                {"object",
                 {{"kind", "Pod"},
                  {"apiVersion", "v1"},
                  {"metadata",
                   {{"uid", "566bf9d7-c55a-45f8-91a6-e55e9b9b1325"},
                    {"name", "agent-0"},
                    {"namespace", "ml"},
                    {"resourceVersion", rv}}}}}};
  return event.dump();
}

TEST(WatchEventFromJson, PodEvents) {
  const struct {
    std::string type;
    WatchEventType expected;
  } cases[] = {{"ADDED", WatchEventType::kAdded},
               {"MODIFIED", WatchEventType::kModified},
               {"DELETED", WatchEventType::kDeleted}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.type);
    const auto event = watch_event_from_json(watch_line(c.type, "1001"));
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->type, c.expected);
    EXPECT_EQ(event->resource_version, "1001");
    ASSERT_TRUE(event->pod.has_value());
    EXPECT_EQ(event->pod->uid, "566bf9d7-c55a-45f8-91a6-e55e9b9b1325");
    EXPECT_EQ(event->pod->name, "agent-0");
    EXPECT_EQ(event->pod->resource_version, "1001");
    EXPECT_EQ(event->error_code, 0);
  }
}

TEST(WatchEventFromJson, TheRealisticPodInAnEvent) {
  const auto event =
      watch_event_from_json(R"({"type":"MODIFIED","object":)" + std::string(kPod) + "}\n");
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, WatchEventType::kModified);
  EXPECT_EQ(event->resource_version, "918273");
  ASSERT_TRUE(event->pod.has_value());
  EXPECT_EQ(event->pod->containers.size(), 5u);
}

TEST(WatchEventFromJson, BookmarkHasAResourceVersionAndNoPod) {
  const auto event = watch_event_from_json(
      R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{)"
      R"("resourceVersion":"12746","creationTimestamp":null,)"
      R"("annotations":{"k8s.io/initial-events-end":"true"}},"spec":{"containers":null},"status":{}}})");
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, WatchEventType::kBookmark);
  EXPECT_EQ(event->resource_version, "12746");
  EXPECT_FALSE(event->pod.has_value());
}

TEST(WatchEventFromJson, ErrorCarriesCodeAndMessage) {
  const auto event = watch_event_from_json(
      R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},)"
      R"j("status":"Failure","message":"too old resource version: 5 (918300)",)j"
      R"("reason":"Expired","code":410}})");
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, WatchEventType::kError);
  EXPECT_EQ(event->error_code, 410);
  EXPECT_EQ(event->error_message, "too old resource version: 5 (918300)");
  EXPECT_FALSE(event->pod.has_value());
  EXPECT_EQ(event->resource_version, "");

  const auto bare = watch_event_from_json(R"({"type":"ERROR","object":{"code":"410"}})");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->type, WatchEventType::kError);
  EXPECT_EQ(bare->error_code, 0);
  EXPECT_EQ(bare->error_message, "");
}

TEST(WatchEventFromJson, NotAWatchEvent) {
  EXPECT_FALSE(watch_event_from_json(watch_line("SYNC", "1")));
  EXPECT_FALSE(watch_event_from_json(watch_line("added", "1")));
  EXPECT_FALSE(watch_event_from_json(R"({"object":{"metadata":{"uid":"u"}}})"));
  EXPECT_FALSE(watch_event_from_json(R"({"type":"ADDED","object":{"metadata":{"name":"x"}}})"));
  EXPECT_FALSE(watch_event_from_json(R"({"type":"DELETED"})"));
  const std::string line = watch_line("ADDED", "1");
  for (size_t cut : {size_t{0}, size_t{1}, line.size() / 2, line.size() - 1}) {
    SCOPED_TRACE(cut);
    EXPECT_FALSE(watch_event_from_json(std::string_view(line).substr(0, cut)));
  }
  EXPECT_FALSE(watch_event_from_json(line + line));  // two events in one line
  EXPECT_FALSE(watch_event_from_json("null"));
  EXPECT_FALSE(watch_event_from_json("[]"));
}

}  // namespace
}  // namespace llmtap::enrich
