#include "probes/file_identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace llmtap::probes {

std::optional<FileIdentity> identify_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{st.st_dev, st.st_ino};
}

OpenedFile::OpenedFile(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd_ >= 0 && ::fstat(fd_, &st) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
  identity_ = {st.st_dev, st.st_ino};
}

OpenedFile::~OpenedFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string OpenedFile::fd_path() const { return "/proc/self/fd/" + std::to_string(fd_); }

}  // namespace llmtap::probes
