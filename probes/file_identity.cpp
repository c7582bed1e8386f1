#include "probes/file_identity.h"

#include <sys/stat.h>

namespace llmtap::probes {

std::optional<FileIdentity> identify_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{st.st_dev, st.st_ino};
}

}  // namespace llmtap::probes
