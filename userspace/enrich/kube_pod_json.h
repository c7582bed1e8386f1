#pragma once
// Kubernetes API objects (v1 Pod, PodList, WatchEvent) to the records llmtap keeps. Input is
// whatever an API server (or something pretending to be one) sent: every field is optional,
// a wrong type is skipped, and nothing throws.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "enrich/pod_record.h"

namespace llmtap::enrich {

// A v1 Pod object; nullopt when it has no metadata.uid.
std::optional<PodRecord> pod_from_json(const nlohmann::json& pod);

struct PodList {
  std::vector<PodRecord> pods;
  std::string resource_version;  // list's metadata.resourceVersion: where a watch starts
  std::string continue_token;    // metadata.continue: more pages to fetch
};
// A v1 PodList; nullopt when the text is not one.
std::optional<PodList> pod_list_from_json(std::string_view text);

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError, kUnknown };

struct WatchEvent {
  WatchEventType type = WatchEventType::kUnknown;
  std::optional<PodRecord> pod;  // ADDED, MODIFIED, DELETED
  std::string resource_version;  // the object's (BOOKMARK: the bookmark's)
  int error_code = 0;            // ERROR: the Status object's code (410: history compacted)
  std::string error_message;     // ERROR: the Status message
};
// One line of a watch stream; nullopt when it is not JSON or not a WatchEvent.
std::optional<WatchEvent> watch_event_from_json(std::string_view line);

}  // namespace llmtap::enrich
