#pragma once
// A file's identity for probing: uprobes belong to an inode, not to a path.

#include <sys/types.h>

#include <compare>
#include <optional>
#include <string>

namespace llmtap::probes {

struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  auto operator<=>(const FileIdentity&) const = default;
};

// stat()s `path` (following symlinks); nullopt when it does not exist.
std::optional<FileIdentity> identify_file(const std::string& path);

}  // namespace llmtap::probes
