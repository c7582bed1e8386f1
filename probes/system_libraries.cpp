#include "probes/system_libraries.h"

#include <array>
#include <set>

#include "probes/file_identity.h"

namespace llmtap::probes {

std::vector<std::string> find_system_tls_libraries() {
  // Multiarch (Debian, Ubuntu) first, then the Red Hat and generic layouts.
  static constexpr std::array kDirectories = {
      "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
      "/lib/aarch64-linux-gnu",    "/usr/lib64",            "/lib64",
      "/usr/lib",                  "/lib",
  };
  static constexpr std::array kNames = {"libssl.so.3", "libssl.so.1.1", "libgnutls.so.30"};

  std::vector<std::string> found;
  std::set<FileIdentity> seen;
  for (const char* dir : kDirectories) {
    for (const char* name : kNames) {
      std::string path = std::string(dir) + "/" + name;
      auto id = identify_file(path);
      if (id && seen.insert(*id).second) found.push_back(std::move(path));
    }
  }
  return found;
}

}  // namespace llmtap::probes
