#include "enrich/cgroup_path_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

namespace llmtap::enrich {
namespace {

namespace fs = std::filesystem;

constexpr int kFileIdKernfs = 0xfe;  // FILEID_KERNFS: a handle that is a kernfs node id
constexpr size_t kMaxWalkedDirectories = 200000;

// mountinfo: "36 25 0:30 / /sys/fs/cgroup/unified rw,... - cgroup2 cgroup2 rw"
void read_mounts(std::string& v2_root, bool& has_v1) {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash));
    std::istringstream tail(line.substr(dash + 3));
    std::string id, parent, devno, root, mount_point, fstype;
    head >> id >> parent >> devno >> root >> mount_point;
    tail >> fstype;
    if (fstype == "cgroup2" && v2_root.empty() && root == "/") v2_root = mount_point;
    if (fstype == "cgroup") has_v1 = true;
  }
}

}  // namespace

CgroupPathReader::CgroupPathReader(std::string v2_root) : root_(std::move(v2_root)) {
  std::string found;
  read_mounts(found, has_v1_);
  if (root_.empty()) root_ = found;
  if (!root_.empty()) root_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

CgroupPathReader::~CgroupPathReader() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

std::optional<std::string> CgroupPathReader::path_of(uint64_t cgroup_id) {
  if (root_fd_ < 0 || cgroup_id == 0) return std::nullopt;
  if (handles_work_) {
    if (auto p = path_by_handle(cgroup_id)) return p;
    if (handles_work_) return std::nullopt;  // the handle worked but names no cgroup: gone
  }
  return path_by_walk(cgroup_id);
}

std::optional<std::string> CgroupPathReader::path_by_handle(uint64_t cgroup_id) {
  struct {
    file_handle handle;
    uint64_t id;
  } h{};
  h.handle.handle_bytes = sizeof(uint64_t);
  h.handle.handle_type = kFileIdKernfs;
  std::memcpy(h.handle.f_handle, &cgroup_id, sizeof cgroup_id);
  const int fd = ::open_by_handle_at(root_fd_, &h.handle, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == EPERM || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL) {
      handles_work_ = false;  // no CAP_DAC_READ_SEARCH (or no kernfs handles): walk instead
      spdlog::info(
          "cgroup ids cannot be opened by handle ({}; needs CAP_DAC_READ_SEARCH): containers "
          "are found by walking {} once per new cgroup",
          std::strerror(errno), root_);
    }
    return std::nullopt;
  }
  std::array<char, 4096> target{};
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), target.data(), target.size() - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  std::string path(target.data(), static_cast<size_t>(n));
  // The link names the directory as mounted: strip the mount point.
  if (path.rfind(root_, 0) == 0) path.erase(0, root_.size());
  if (path.empty()) path = "/";
  return path;
}

std::optional<std::string> CgroupPathReader::path_by_walk(uint64_t cgroup_id) const {
  std::error_code ec;
  struct stat st {};
  if (::stat(root_.c_str(), &st) == 0 && st.st_ino == cgroup_id) return "/";
  size_t seen = 0;
  for (fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied,
                                           ec),
       end;
       it != end && !ec; it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    if (++seen > kMaxWalkedDirectories) break;
    if (::stat(it->path().c_str(), &st) == 0 && st.st_ino == cgroup_id) {
      return it->path().string().substr(root_.size());
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> cgroup_id_of_process(uint32_t pid, const std::string& proc_root) {
  static const std::string v2_root = [] {
    std::string root;
    bool has_v1 = false;
    read_mounts(root, has_v1);
    return root;
  }();
  if (v2_root.empty()) return std::nullopt;
  std::ifstream in(proc_root + "/" + std::to_string(pid) + "/cgroup");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("0::", 0) != 0) continue;
    struct stat st{};
    const std::string dir = v2_root + line.substr(3);
    if (line.find("/..") != std::string::npos || ::stat(dir.c_str(), &st) != 0) return std::nullopt;
    return static_cast<uint64_t>(st.st_ino);
  }
  return std::nullopt;
}

}  // namespace llmtap::enrich
