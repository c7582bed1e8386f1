#include "probes/file_identity.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace llmtap::probes {
namespace {

// statx for the change time, FS_IOC_GETVERSION for the generation (ext4, xfs, btrfs; other
// filesystems refuse it and the kernel's own key, from the event, is used instead).
std::optional<FileIdentity> identity_of_fd(int fd) {
  struct statx stx {};
  if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) != 0) return std::nullopt;
  FileIdentity id;
  id.device = makedev(stx.stx_dev_major, stx.stx_dev_minor);
  id.inode = stx.stx_ino;
  id.ctime_sec = stx.stx_ctime.tv_sec;
  id.ctime_nsec = stx.stx_ctime.tv_nsec;
  int generation = 0;
  if (ioctl(fd, FS_IOC_GETVERSION, &generation) == 0)
    id.generation = static_cast<uint32_t>(generation);
  return id;
}

}  // namespace

std::optional<FileIdentity> identify_file(const std::string& path) {
  const OpenedFile file(path);
  if (!file.valid()) return std::nullopt;
  return file.identity();
}

OpenedFile::OpenedFile(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return;
  if (auto id = identity_of_fd(fd_)) {
    identity_ = *id;
  } else {
    ::close(fd_);
    fd_ = -1;
  }
}

OpenedFile::~OpenedFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string OpenedFile::fd_path() const { return "/proc/self/fd/" + std::to_string(fd_); }

}  // namespace llmtap::probes
