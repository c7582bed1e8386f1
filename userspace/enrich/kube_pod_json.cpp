#include "enrich/kube_pod_json.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace llmtap::enrich {
namespace {

using nlohmann::json;

// Field access that never throws: a missing or mistyped field reads as empty.
const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string text(const json& object, const char* key) {
  const json* v = member(object, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

const json& object_at(const json& object, const char* key) {
  static const json kEmpty = json::object();
  const json* v = member(object, key);
  return v != nullptr && v->is_object() ? *v : kEmpty;
}

const json& array_at(const json& object, const char* key) {
  static const json kEmpty = json::array();
  const json* v = member(object, key);
  return v != nullptr && v->is_array() ? *v : kEmpty;
}

// "containerd://<id>" -> ("containerd", "<id>"); CRI-O reports "cri-o://".
void split_container_id(const std::string& reported, PodContainer& c) {
  const size_t sep = reported.find("://");
  if (sep == std::string::npos) {
    c.id = reported;
    return;
  }
  c.runtime = reported.substr(0, sep);
  c.id = reported.substr(sep + 3);
}

void add_containers(const json& spec, const json& status, const char* spec_key,
                    const char* status_key, PodRecord& pod) {
  for (const json& s : array_at(spec, spec_key)) {
    PodContainer c;
    c.name = text(s, "name");
    c.image = text(s, "image");
    pod.containers.push_back(std::move(c));
  }
  for (const json& st : array_at(status, status_key)) {
    const std::string name = text(st, "name");
    auto it = std::find_if(pod.containers.begin(), pod.containers.end(),
                           [&](const PodContainer& c) { return c.name == name; });
    if (it == pod.containers.end()) {
      it = pod.containers.insert(pod.containers.end(), PodContainer{});
      it->name = name;
    }
    if (it->image.empty()) it->image = text(st, "image");
    it->image_id = text(st, "imageID");
    split_container_id(text(st, "containerID"), *it);
  }
}

}  // namespace

std::optional<PodRecord> pod_from_json(const json& object) {
  const json& metadata = object_at(object, "metadata");
  PodRecord pod;
  pod.uid = text(metadata, "uid");
  if (pod.uid.empty()) return std::nullopt;
  pod.name = text(metadata, "name");
  pod.namespace_name = text(metadata, "namespace");
  pod.resource_version = text(metadata, "resourceVersion");
  for (const auto& [key, value] : object_at(metadata, "labels").items()) {
    if (value.is_string()) pod.labels.emplace_back(key, value.get<std::string>());
  }
  std::sort(pod.labels.begin(), pod.labels.end());
  const json& spec = object_at(object, "spec");
  const json& status = object_at(object, "status");
  pod.node_name = text(spec, "nodeName");
  pod.service_account = text(spec, "serviceAccountName");
  pod.pod_ip = text(status, "podIP");
  add_containers(spec, status, "containers", "containerStatuses", pod);
  add_containers(spec, status, "initContainers", "initContainerStatuses", pod);
  add_containers(spec, status, "ephemeralContainers", "ephemeralContainerStatuses", pod);
  return pod;
}

std::optional<PodList> pod_list_from_json(std::string_view text_in) {
  const json doc = json::parse(text_in, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || text(doc, "kind") != "PodList") return std::nullopt;
  PodList list;
  const json& metadata = object_at(doc, "metadata");
  list.resource_version = text(metadata, "resourceVersion");
  list.continue_token = text(metadata, "continue");
  for (const json& item : array_at(doc, "items")) {
    if (auto pod = pod_from_json(item)) list.pods.push_back(std::move(*pod));
  }
  return list;
}

std::optional<WatchEvent> watch_event_from_json(std::string_view line) {
  const json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  const std::string type = text(doc, "type");
  const json& object = object_at(doc, "object");
  WatchEvent event;
  if (type == "ADDED") {
    event.type = WatchEventType::kAdded;
  } else if (type == "MODIFIED") {
    event.type = WatchEventType::kModified;
  } else if (type == "DELETED") {
    event.type = WatchEventType::kDeleted;
  } else if (type == "BOOKMARK") {
    event.type = WatchEventType::kBookmark;
  } else if (type == "ERROR") {
    event.type = WatchEventType::kError;
    const json* code = member(object, "code");
    if (code != nullptr && code->is_number_integer()) event.error_code = code->get<int>();
    event.error_message = text(object, "message");
    return event;
  } else {
    return std::nullopt;
  }
  event.resource_version = text(object_at(object, "metadata"), "resourceVersion");
  if (event.type != WatchEventType::kBookmark) {
    event.pod = pod_from_json(object);
    if (!event.pod) return std::nullopt;
  }
  return event;
}

}  // namespace llmtap::enrich
