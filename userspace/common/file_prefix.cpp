#include "common/file_prefix.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace llmtap {

std::optional<std::string> read_file_prefix(const std::string& path, size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  // Grown as it is read: most files (proc files above all) are far smaller than the limit,
  // and zeroing the whole limit up front would cost more than the read.
  constexpr size_t kChunk = 16384;
  std::string text;
  while (text.size() < limit) {
    const size_t used = text.size();
    const size_t want = std::min(kChunk, limit - used);
    text.resize(used + want);
    const ssize_t n = ::read(fd, text.data() + used, want);
    if (n < 0 && errno == EINTR) {
      text.resize(used);
      continue;
    }
    text.resize(used + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n <= 0) break;
  }
  ::close(fd);
  return text;
}

}  // namespace llmtap
