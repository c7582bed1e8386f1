// libFuzzer target for the cgroup path parser. The input is parsed whole, and so is the first
// tab-separated field of each of its lines, so the test corpus (one case a line) seeds it
// with real paths. Besides not crashing, every result must be well formed, and a sub-cgroup
// below a path must belong to the same container as the path itself.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "enrich/container_cgroup_path.h"

namespace {

using llmtap::enrich::CgroupContainer;
using llmtap::enrich::ContainerRuntime;
using llmtap::enrich::parse_container_cgroup_path;

bool lower_hex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool canonical_pod_uid(std::string_view uid) {
  if (uid.size() == 32) return lower_hex(uid);
  if (uid.size() != 36) return false;
  for (size_t i = 0; i < uid.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? uid[i] != '-' : !lower_hex(uid.substr(i, 1))) return false;
  }
  return true;
}

void check(std::string_view path) {
  const std::optional<CgroupContainer> found = parse_container_cgroup_path(path);
  if (found) {
    if (found->id.size() != 64 || !lower_hex(found->id)) std::abort();
    if (path.find(found->id) == std::string_view::npos) std::abort();
    if (found->runtime > ContainerRuntime::kPodman) std::abort();
    if (!found->pod_uid.empty() && !canonical_pod_uid(found->pod_uid)) std::abort();
    if (found->pod_uid.empty() != found->qos.empty()) std::abort();
    if (!found->qos.empty() && found->qos != "guaranteed" && found->qos != "burstable" &&
        found->qos != "besteffort") {
      std::abort();
    }
  }
  // "/init.scope" names no container, so appending it changes nothing (within the length limit).
  const std::string below = std::string(path) + "/init.scope";
  if (below.size() <= 4096 && parse_container_cgroup_path(below) != found) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check(input);
  size_t start = 0;
  while (start < input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    check(line.substr(0, line.find('\t')));
    start = end + 1;
  }
  return 0;
}
