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

// An open file, so that what is examined, identified and attached is one and the same file
// even when the path (e.g. under /proc/PID/root) goes away meanwhile.
class OpenedFile {
 public:
  explicit OpenedFile(const std::string& path);  // check valid()
  ~OpenedFile();
  OpenedFile(const OpenedFile&) = delete;
  OpenedFile& operator=(const OpenedFile&) = delete;

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const FileIdentity& identity() const { return identity_; }
  // A path that reaches this very file while it is open: /proc/self/fd/N.
  std::string fd_path() const;

 private:
  int fd_ = -1;
  FileIdentity identity_;
};

}  // namespace llmtap::probes
