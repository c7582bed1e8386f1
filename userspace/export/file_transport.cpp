#include "export/file_transport.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

namespace llmtap::exporter {

FileTransport::FileTransport(FileTarget target) : target_(std::move(target)) {
  std::string error;
  if (!open_file(error)) throw std::runtime_error(error);
}

FileTransport::~FileTransport() {
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
}

bool FileTransport::open_file(std::string& error) {
  fd_ = ::open(target_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
               static_cast<mode_t>(target_.mode));
  if (fd_ < 0) {
    error = "cannot open " + target_.path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  ::fstat(fd_, &st);
  size_ = static_cast<uint64_t>(st.st_size);
  return true;
}

// path.(keep-1) -> path.keep (the oldest falls off), ..., path -> path.1, then a new path.
bool FileTransport::rotate(std::string& error) {
  ::fsync(fd_);
  ::close(fd_);
  fd_ = -1;
  if (target_.keep == 0) {
    if (::truncate(target_.path.c_str(), 0) != 0 && errno != ENOENT) {
      error = "cannot truncate " + target_.path + ": " + std::strerror(errno);
    }
  } else {
    std::remove((target_.path + "." + std::to_string(target_.keep)).c_str());
    for (unsigned i = target_.keep; i > 1; --i) {
      std::rename((target_.path + "." + std::to_string(i - 1)).c_str(),
                  (target_.path + "." + std::to_string(i)).c_str());
    }
    if (std::rename(target_.path.c_str(), (target_.path + ".1").c_str()) != 0 &&
        errno != ENOENT) {
      error = "cannot rotate " + target_.path + ": " + std::strerror(errno);
    }
  }
  ++rotations_;
  return open_file(error);
}

SendResult FileTransport::send(std::span<const OutRecord> records) {
  std::string error;
  if (fd_ < 0 && !open_file(error)) return {SendResult::Kind::kRetry, error};
  std::string buffer;
  for (const OutRecord& r : records) {
    // Rotate before a line that would overflow the file (never mid-line).
    if (size_ + buffer.size() + r.payload.size() + 1 > target_.max_bytes &&
        size_ + buffer.size() > 0) {
      if (!buffer.empty()) {
        if (::write(fd_, buffer.data(), buffer.size()) != static_cast<ssize_t>(buffer.size())) {
          return {SendResult::Kind::kRetry, "writing " + target_.path + ": " + std::strerror(errno)};
        }
        size_ += buffer.size();
        buffer.clear();
      }
      if (!rotate(error)) return {SendResult::Kind::kRetry, error};
    }
    buffer += r.payload;
    buffer.push_back('\n');
  }
  size_t done = 0;
  while (done < buffer.size()) {
    const ssize_t n = ::write(fd_, buffer.data() + done, buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // A partial line would corrupt the file for its readers: cut it off again.
      if (done > 0 && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) size_ += done;
      return {SendResult::Kind::kRetry, "writing " + target_.path + ": " + std::strerror(errno)};
    }
    done += static_cast<size_t>(n);
  }
  size_ += buffer.size();
  const auto now = std::chrono::steady_clock::now();
  if (target_.fsync == FileTarget::Fsync::kBatch ||
      (target_.fsync == FileTarget::Fsync::kInterval &&
       now - last_sync_ >= target_.fsync_interval)) {
    ::fdatasync(fd_);
    last_sync_ = now;
  }
  return {};
}

}  // namespace llmtap::exporter
