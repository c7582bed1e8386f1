// libFuzzer target for the Kubernetes API readers: the input is read whole as a PodList and as
// a watch event, and each of its lines as a watch event (a watch stream is one event a line).
// Besides not crashing or leaking, every pod returned must have a uid and sorted labels, and
// each event type must carry what it promises (a pod for ADDED/MODIFIED/DELETED, none else).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "enrich/kube_pod_json.h"

namespace {

using llmtap::enrich::PodRecord;
using llmtap::enrich::WatchEvent;
using llmtap::enrich::WatchEventType;

void check_pod(const PodRecord& pod) {
  if (pod.uid.empty()) std::abort();
  for (size_t i = 1; i < pod.labels.size(); ++i) {
    // Keys of one JSON object: sorted and distinct.
    if (!(pod.labels[i - 1].first < pod.labels[i].first)) std::abort();
  }
  for (const auto& c : pod.containers) {
    if (!c.runtime.empty() && c.runtime.find("://") != std::string_view::npos) std::abort();
  }
}

void check_event(std::string_view text) {
  const std::optional<WatchEvent> event = llmtap::enrich::watch_event_from_json(text);
  if (!event) return;
  switch (event->type) {
    case WatchEventType::kAdded:
    case WatchEventType::kModified:
    case WatchEventType::kDeleted:
      if (!event->pod) std::abort();
      check_pod(*event->pod);
      if (event->resource_version != event->pod->resource_version) std::abort();
      break;
    case WatchEventType::kBookmark:
      if (event->pod) std::abort();
      break;
    case WatchEventType::kError:
      if (event->pod || !event->resource_version.empty()) std::abort();
      break;
    case WatchEventType::kUnknown:
      std::abort();  // unknown types are not events
  }
  if (event->type != WatchEventType::kError &&
      (event->error_code != 0 || !event->error_message.empty())) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (const auto list = llmtap::enrich::pod_list_from_json(input)) {
    for (const PodRecord& pod : list->pods) check_pod(pod);
  }
  check_event(input);
  size_t start = 0;
  while (start < input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    if (end - start != input.size()) check_event(input.substr(start, end - start));
    start = end + 1;
  }
  return 0;
}
