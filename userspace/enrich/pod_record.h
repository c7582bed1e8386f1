#pragma once
// What llmtap keeps of a Kubernetes pod: the fields events carry, nothing else (a Pod object
// from the API is tens of KiB; this is a few hundred bytes).

#include <string>
#include <utility>
#include <vector>

namespace llmtap::enrich {

struct PodContainer {
  std::string id;       // 64 hex, without the "containerd://" prefix; "" until it started
  std::string runtime;  // "containerd", "cri-o", "docker", ... from the container id's scheme
  std::string name;
  std::string image;     // as the pod spec names it
  std::string image_id;  // as the runtime reports it (a digest)
};

struct PodRecord {
  std::string uid;
  std::string name;
  std::string namespace_name;
  std::string node_name;
  std::string service_account;
  std::string pod_ip;
  std::string resource_version;
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by key
  std::vector<PodContainer> containers;  // regular, init and ephemeral containers
};

}  // namespace llmtap::enrich
