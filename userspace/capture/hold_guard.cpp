#include "capture/hold_guard.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>
#include <type_traits>

#include "capture/capture_error.h"
#include "capture/hold_pins.h"
#include "capture/hold_table.h"
#include "capture/process_resume.h"
#include "capture/wall_clock.h"
#include "tls_capture.skel.h"

namespace llmtap::capture {
namespace {

// The agent's .bss: the hold switch, the in-flight count, the guard's counter.
using Control = std::remove_pointer_t<decltype(tls_capture::bss)>;

class PinnedControl {
 public:
  explicit PinnedControl(const std::string& path) {
    fd_ = bpf_obj_get(path.c_str());
    if (fd_ < 0) return;
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    // The skeleton's struct is the .bss section rounded up to its alignment (8).
    if (bpf_obj_get_info_by_fd(fd_, &info, &len) != 0 || info.value_size > sizeof(Control) ||
        info.value_size + alignof(Control) <= sizeof(Control)) {
      return;
    }
    size_ = (sizeof(Control) + 4095) & ~size_t{4095};
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (p != MAP_FAILED) control_ = static_cast<Control*>(p);
  }
  ~PinnedControl() {
    if (control_ != nullptr) munmap(control_, size_);
    if (fd_ >= 0) close(fd_);
  }
  PinnedControl(const PinnedControl&) = delete;
  PinnedControl& operator=(const PinnedControl&) = delete;
  Control* get() const { return control_; }

 private:
  int fd_ = -1;
  size_t size_ = 0;
  Control* control_ = nullptr;
};

// No hold is made after this returns, and every hold decided before it is in the table.
void switch_holds_off(Control* control) {
  __atomic_store_n(&control->holds_enabled, 0, __ATOMIC_SEQ_CST);
  for (int spins = 0; __atomic_load_n(&control->holds_inflight, __ATOMIC_SEQ_CST) != 0; ++spins) {
    if (spins == 100000) break;  // 1 s: a hold program runs for microseconds
    usleep(10);
  }
}

// PF_EXITING in /proc/PID/stat's flags (field 9): set as the kernel starts tearing a process
// down. An llmtap that dies holding many probes takes seconds to finish dying (each probe's
// removal waits for RCU); the guard must not wait for that.
bool exiting(const ProcStatFile& stat) {
  constexpr uint64_t kPfExiting = 0x4;
  const auto flags = stat.field(9);
  return !flags || (*flags & kPfExiting) != 0;  // gone counts as exiting
}

// The ring of hold notices (one per hold the agent's programs made), read only to be woken:
// what a notice says is in `holds` too.
class HoldNotices {
 public:
  explicit HoldNotices(const std::string& path) {
    fd_ = bpf_obj_get(path.c_str());
    if (fd_ >= 0) ring_ = ring_buffer__new(fd_, &ignore, nullptr, nullptr);
  }
  ~HoldNotices() {
    if (ring_ != nullptr) ring_buffer__free(ring_);
    if (fd_ >= 0) close(fd_);
  }
  HoldNotices(const HoldNotices&) = delete;
  HoldNotices& operator=(const HoldNotices&) = delete;
  // -1 when there is no ring: the guard then looks at the table every period.
  int poll_fd() const { return ring_ != nullptr ? ring_buffer__epoll_fd(ring_) : -1; }
  void drain() const {
    if (ring_ != nullptr) ring_buffer__consume(ring_);
  }

 private:
  static int ignore(void*, void*, size_t) { return 0; }
  int fd_ = -1;
  ring_buffer* ring_ = nullptr;
};

// The agent is done (closed its end of the pipe), dead, or dying. Waits up to timeout_ms
// (-1: until one of the fds is ready; a hold notice only ends the wait).
bool agent_gone(const ProcStatFile& agent, int pidfd, int agent_fd, int notices_fd,
                int timeout_ms) {
  pollfd fds[3] = {{pidfd, POLLIN, 0}, {agent_fd, POLLIN, 0}, {notices_fd, POLLIN, 0}};
  const int n = poll(fds, 3, timeout_ms);  // negative fds are left out
  constexpr short kDone = POLLIN | POLLHUP | POLLERR;
  if (n > 0 && ((fds[0].revents & kDone) != 0 || (fds[1].revents & kDone) != 0)) return true;
  return exiting(agent);
}

}  // namespace

int run_hold_guard(const HoldGuardOptions& o) {
  setsid();
  for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGTSTP}) signal(sig, SIG_IGN);
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, o.agent_pid, 0));
  const int holds_fd = bpf_obj_get((o.pin_dir + "/" + kHoldsPinName).c_str());
  const PinnedControl control(o.pin_dir + "/" + kControlPinName);
  if (pidfd < 0 || holds_fd < 0 || control.get() == nullptr) {
    spdlog::error("hold guard: cannot watch {} (agent pid {}): {}", o.pin_dir, o.agent_pid,
                  std::strerror(errno));
    return 2;
  }
  if (o.ready_fd >= 0) {
    const char ok = 1;
    (void)!write(o.ready_fd, &ok, 1);
    close(o.ready_fd);
  }
  const HoldTable table(holds_fd);
  const HoldNotices notices(o.pin_dir + "/" + kHoldNoticesPinName);
  if (notices.poll_fd() < 0) {
    spdlog::warn("hold guard: no ring of hold notices in {}; looking at the table every period",
                 o.pin_dir);
  }
  const auto deadline_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(o.deadline).count());
  // Check a few times per deadline: a hold ends at most deadline + period after its stop.
  const int period_ms = static_cast<int>(std::max<int64_t>(5, o.deadline.count() / 20));
  const ProcStatFile agent_stat(o.agent_pid);  // opened once: read at every wakeup
  for (;;) {
    // Drain, then look: a hold made after the look has its notice after the drain (BPF writes
    // it once the hold is in the table), so the wait below ends at once for it.
    notices.drain();
    const auto overdue = table.release_overdue(deadline_ns, monotonic_now_ns());
    if (!overdue.empty()) {
      __atomic_add_fetch(&control.get()->holds_released_by_guard, overdue.size(), __ATOMIC_RELAXED);
    }
    // With no hold in the table there is nothing to time: sleep until a notice or the agent's
    // end (a dying agent's last holds, made while its probes are torn down, wake the guard,
    // which then sees it exiting).
    const bool idle = notices.poll_fd() >= 0 && table.size() == 0;
    if (agent_gone(agent_stat, pidfd, o.agent_fd, notices.poll_fd(), idle ? -1 : period_ms)) break;
  }
  // The agent is gone (or done): nobody else will resume what is left.
  switch_holds_off(control.get());
  const auto left = table.release_all(monotonic_now_ns());
  __atomic_add_fetch(&control.get()->holds_released_by_guard, left.size(), __ATOMIC_RELAXED);
  std::error_code ec;
  std::filesystem::remove_all(o.pin_dir, ec);
  close(holds_fd);
  close(pidfd);
  return 0;
}

HoldGuardProcess::HoldGuardProcess(const std::string& pin_dir, std::chrono::milliseconds deadline) {
  int ready[2];
  int agent[2];
  if (pipe2(ready, O_CLOEXEC) != 0)
    throw CaptureError("hold guard: pipe: " + std::string(std::strerror(errno)));
  if (pipe2(agent, O_CLOEXEC) != 0) {
    close(ready[0]);
    close(ready[1]);
    throw CaptureError("hold guard: pipe: " + std::string(std::strerror(errno)));
  }
  const std::string agent_pid = std::to_string(getpid());
  const std::string deadline_ms = std::to_string(deadline.count());
  pid_ = fork();
  if (pid_ == 0) {
    // The guard keeps only these two pipe ends (plus stdio): none of the agent's BPF links.
    dup2(ready[1], 3);
    dup2(agent[0], 4);
    const int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
    }
    execl("/proc/self/exe", "llmtap", "hold-guard", "--pins", pin_dir.c_str(), "--agent",
          agent_pid.c_str(), "--deadline-ms", deadline_ms.c_str(), "--ready-fd", "3", "--agent-fd",
          "4", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(ready[1]);
  close(agent[0]);
  agent_fd_ = agent[1];
  if (pid_ < 0) {
    close(ready[0]);
    throw CaptureError("hold guard: fork: " + std::string(std::strerror(errno)));
  }
  pollfd p{ready[0], POLLIN, 0};
  char ok = 0;
  const bool started = poll(&p, 1, 5000) == 1 && read(ready[0], &ok, 1) == 1 && ok == 1;
  close(ready[0]);
  if (!started) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    close(agent_fd_);
    throw CaptureError("the hold guard did not start");
  }
}

HoldGuardProcess::~HoldGuardProcess() {
  close(agent_fd_);  // the guard's last sweep finds nothing: the agent swept first
  for (int i = 0; i < 200 && waitpid(pid_, nullptr, WNOHANG) == 0; ++i) usleep(10000);
}

bool HoldGuardProcess::alive() { return waitpid(pid_, nullptr, WNOHANG) == 0; }

}  // namespace llmtap::capture
