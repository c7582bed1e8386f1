#include "capture/hold_pins.h"

#include <bpf/bpf.h>
#include <linux/magic.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "capture/capture_error.h"
#include "capture/hold_table.h"
#include "capture/process_resume.h"
#include "capture/wall_clock.h"
#include "llmtap_abi.h"

namespace llmtap::capture {
namespace {

namespace fs = std::filesystem;

bool is_bpffs(const char* path) {
  struct statfs st {};
  return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

// "<pid>_<start ticks>": the llmtap that made the directory (bpffs refuses dots in names).
struct Owner {
  pid_t pid = 0;
  uint64_t start_ticks = 0;
};

std::optional<Owner> owner_of(const std::string& name) {
  const size_t dot = name.find('_');
  if (dot == std::string::npos) return std::nullopt;
  try {
    return Owner{static_cast<pid_t>(std::stol(name.substr(0, dot))),
                 std::stoull(name.substr(dot + 1))};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool owner_alive(const Owner& owner) {
  const auto started = process_start_ticks(owner.pid);
  return started && *started == owner.start_ticks;
}

class MapFd {
 public:
  explicit MapFd(const fs::path& pin) : fd_(bpf_obj_get(pin.c_str())) {}
  ~MapFd() {
    if (fd_ >= 0) close(fd_);
  }
  MapFd(const MapFd&) = delete;
  MapFd& operator=(const MapFd&) = delete;
  int get() const { return fd_; }
  // The map's value size, or 0 when it is no map: a layout this llmtap does not know is
  // never read.
  uint32_t value_size() const {
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    return fd_ >= 0 && bpf_obj_get_info_by_fd(fd_, &info, &len) == 0 ? info.value_size : 0;
  }

 private:
  int fd_;
};

// Its agent is gone, and so are the agent's programs (their links die with it): nothing adds
// to the table any more, so one pass resumes everything in it.
uint64_t sweep_directory(const fs::path& dir) {
  const MapFd holds(dir / kHoldsPinName);
  uint64_t resumed = 0;
  if (holds.get() >= 0 && holds.value_size() == sizeof(llmtap_hold)) {
    for (const auto& r : HoldTable(holds.get()).release_all(monotonic_now_ns())) {
      if (r.outcome == ResumeOutcome::kResumed) ++resumed;
    }
  } else if (holds.get() >= 0) {
    spdlog::error("{}: holds in a layout this llmtap does not know; not touched", dir.string());
    return 0;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return resumed;
}

}  // namespace

bool ensure_bpffs_mounted() {
  if (is_bpffs(kBpffsRoot)) return false;
  if (mount("bpf", kBpffsRoot, "bpf", 0, "mode=0700") != 0) {
    throw CaptureError(std::string("no bpffs at ") + kBpffsRoot + " and cannot mount one (" +
                       std::strerror(errno) +
                       "): holds need it to outlive llmtap; mount it, give CAP_SYS_ADMIN, or "
                       "run with --no-hold");
  }
  return true;
}

OrphanSweep sweep_orphaned_holds(const std::string& root) {
  OrphanSweep sweep;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const auto owner = owner_of(entry.path().filename().string());
    if (!entry.is_directory() || !owner || owner->pid == getpid() || owner_alive(*owner)) continue;
    ++sweep.agents;
    sweep.resumed += sweep_directory(entry.path());
  }
  return sweep;
}

HoldPins::HoldPins(int holds_fd, int control_fd, int notices_fd, const std::string& root) {
  const auto started = process_start_ticks(getpid());
  dir_ = root + "/" + std::to_string(getpid()) + "_" + std::to_string(started.value_or(0));
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw CaptureError("cannot create " + dir_ + ": " + ec.message());
  for (const auto& [fd, name] :
       {std::pair{holds_fd, kHoldsPinName}, {control_fd, kControlPinName},
        {notices_fd, kHoldNoticesPinName}}) {
    const std::string path = dir_ + "/" + name;
    if (bpf_obj_pin(fd, path.c_str()) != 0) {
      const int err = errno;
      fs::remove_all(dir_, ec);
      throw CaptureError("cannot pin " + path + ": " + std::strerror(err));
    }
  }
}

HoldPins::~HoldPins() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

}  // namespace llmtap::capture
