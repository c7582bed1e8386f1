#pragma once
// A file's identity for probing. Uprobes belong to an inode, not to a path; and an inode
// number names a file only while it exists, so an identity is one *incarnation* of an inode:
// device, number, generation and change time (docs/file-identity.md).

#include <sys/types.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>

namespace llmtap::probes {

// The inode itself, whatever its incarnation. Two live files never share it; an attached
// file keeps it (its probes hold the inode, so its number cannot be handed to another file).
struct InodeNumber {
  dev_t device = 0;
  ino_t inode = 0;
  auto operator<=>(const InodeNumber&) const = default;
};

struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  int64_t ctime_sec = 0;  // inode change time: new for a new file in a reused inode
  uint32_t ctime_nsec = 0;
  uint32_t generation = 0;  // i_generation where the filesystem tells it (else 0)
  auto operator<=>(const FileIdentity&) const = default;
  InodeNumber inode_number() const { return {device, inode}; }
};

// The identity of `path` (following symlinks); nullopt when it does not exist.
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
