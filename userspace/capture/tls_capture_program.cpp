#include "capture/tls_capture_program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <map>
#include <string_view>

#include "llmtap_abi.h"
#include "tls_capture.skel.h"

namespace llmtap::capture {
namespace {

struct LinkDeleter {
  void operator()(bpf_link* link) const { bpf_link__destroy(link); }
};
using Link = std::unique_ptr<bpf_link, LinkDeleter>;

struct SkeletonDeleter {
  void operator()(tls_capture* skel) const { tls_capture__destroy(skel); }
};

struct RingBufferDeleter {
  void operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
};

// libbpf's messages go to our log: warnings as debug (they are noisy on probing), the
// verifier log only when asked for.
int forward_libbpf_log(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG && !spdlog::should_log(spdlog::level::trace)) return 0;
  std::array<char, 1024> line{};
  const int n = vsnprintf(line.data(), line.size(), format, args);
  std::string_view text(line.data(), n > 0 ? std::min<size_t>(n, line.size() - 1) : 0);
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  spdlog::debug("libbpf: {}", text);
  return 0;
}

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

struct Tracepoint {
  std::string_view program;
  std::string_view category;
  std::string_view name;
};

constexpr std::array<Tracepoint, 13> kTracepoints = {{
    // Which socket a TLS call uses: the read/write-family syscalls made inside it.
    {"tp_enter_write", "syscalls", "sys_enter_write"},
    {"tp_enter_read", "syscalls", "sys_enter_read"},
    {"tp_enter_writev", "syscalls", "sys_enter_writev"},
    {"tp_enter_readv", "syscalls", "sys_enter_readv"},
    {"tp_enter_sendto", "syscalls", "sys_enter_sendto"},
    {"tp_enter_recvfrom", "syscalls", "sys_enter_recvfrom"},
    {"tp_enter_sendmsg", "syscalls", "sys_enter_sendmsg"},
    {"tp_enter_recvmsg", "syscalls", "sys_enter_recvmsg"},
    // Connection and process lifecycle, and discovery of new TLS users.
    {"tp_enter_close", "syscalls", "sys_enter_close"},
    {"tp_enter_connect", "syscalls", "sys_enter_connect"},
    {"tp_enter_mmap", "syscalls", "sys_enter_mmap"},
    {"tp_process_exec", "sched", "sched_process_exec"},
    {"tp_process_exit", "sched", "sched_process_exit"},
}};

uint32_t ring_size_for(uint32_t requested) {
  const uint32_t page = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  return std::bit_ceil(std::max(requested, page));
}

}  // namespace

CaptureOptions::CaptureOptions()
    : max_bytes_per_call(LLMTAP_DEFAULT_MAX_BYTES),
      ring_buffer_bytes(LLMTAP_DEFAULT_RINGBUF_BYTES),
      wakeup_bytes(LLMTAP_DEFAULT_WAKEUP_BYTES) {}

// Destroys detached links on its own thread: unregistering a uprobe waits for RCU grace
// periods (hundreds of ms here), which must not stall reading the ring buffers.
class LinkReaper {
 public:
  LinkReaper() : thread_([this](std::stop_token stop) { run(stop); }) {}
  ~LinkReaper() {
    thread_.request_stop();
    wake_.notify_all();
  }
  void reap(std::vector<Link> links) {
    {
      std::lock_guard lock(mutex_);
      for (auto& link : links) pending_.push_back(std::move(link));
    }
    wake_.notify_all();
  }

 private:
  void run(std::stop_token stop) {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stop.stop_requested() || !pending_.empty(); });
      std::vector<Link> batch = std::move(pending_);
      pending_.clear();
      lock.unlock();
      batch.clear();  // the slow part, outside the lock
      lock.lock();
      if (stop.stop_requested() && pending_.empty()) return;
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Link> pending_;
  std::jthread thread_;  // last: joined (after draining) before the members above go
};

struct TlsCaptureProgram::Impl {
  std::unique_ptr<tls_capture, SkeletonDeleter> skel;
  std::unique_ptr<ring_buffer, RingBufferDeleter> ring;
  std::vector<Link> tracepoints;
  std::map<std::string, std::vector<Link>> file_links;
  LinkReaper reaper;  // destroyed (drained) before the links above and the skeleton
  RecordHandler on_record;
  RecordHandler on_proc_event;
  uint32_t ring_bytes = 0;

  static int on_ring_record(void* ctx, void* data, size_t size) {
    static_cast<Impl*>(ctx)->on_record(std::span(static_cast<const std::byte*>(data), size));
    return 0;
  }
  static int on_proc_record(void* ctx, void* data, size_t size) {
    static_cast<Impl*>(ctx)->on_proc_event(std::span(static_cast<const std::byte*>(data), size));
    return 0;
  }

  bpf_program* program(std::string_view name) const {
    bpf_program* prog = bpf_object__find_program_by_name(skel->obj, std::string(name).c_str());
    if (prog == nullptr) throw CaptureError("BPF program " + std::string(name) + " is missing");
    return prog;
  }
};

TlsCaptureProgram::TlsCaptureProgram(const CaptureOptions& options, RecordHandler on_record,
                                     RecordHandler on_proc_event)
    : impl_(std::make_unique<Impl>()) {
  libbpf_set_print(forward_libbpf_log);
  impl_->on_record = std::move(on_record);
  impl_->on_proc_event = std::move(on_proc_event);

  impl_->skel.reset(tls_capture__open());
  if (!impl_->skel) {
    throw CaptureError("cannot open the BPF object: " + errno_text(errno));
  }
  auto* skel = impl_->skel.get();
  skel->rodata->targ_tgid = options.target_pid;
  skel->rodata->self_tgid = static_cast<uint32_t>(getpid());
  skel->rodata->max_bytes = options.max_bytes_per_call;
  skel->rodata->hold_while_attaching = options.hold_while_attaching;
  if (!options.target_comm.empty()) {
    // The kernel keeps 15 characters of a command name.
    std::strncpy(const_cast<char*>(skel->rodata->targ_comm), options.target_comm.c_str(),
                 LLMTAP_COMM_LEN - 1);
  }
  skel->rodata->filter_cgroup = !options.target_cgroup.empty();
  impl_->ring_bytes = ring_size_for(options.ring_buffer_bytes);
  // Never wait for more than an eighth of the ring: a burst must not fill it before we wake.
  skel->rodata->wakeup_bytes = std::min(options.wakeup_bytes, impl_->ring_bytes / 8);
  bpf_map__set_max_entries(skel->maps.events, impl_->ring_bytes);

  if (int err = tls_capture__load(skel); err != 0) {
    if (err == -EPERM || err == -EACCES) {
      throw CaptureError(
          "the kernel refused to load BPF programs (" + errno_text(err) +
          "): llmtap needs root or CAP_BPF + CAP_PERFMON, and a kernel lockdown mode that "
          "allows BPF; run with -v to see the verifier log");
    }
    throw CaptureError("cannot load the BPF programs: " + errno_text(err) +
                       " (run with -v to see libbpf's log)");
  }

  if (!options.target_cgroup.empty()) {
    const int cgroup_fd = open(options.target_cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_fd < 0) {
      throw CaptureError("--cgroup " + options.target_cgroup + ": " + errno_text(errno));
    }
    const uint32_t zero = 0;
    const int err = bpf_map__update_elem(skel->maps.cgroup_filter, &zero, sizeof(zero),
                                         &cgroup_fd, sizeof(cgroup_fd), BPF_ANY);
    close(cgroup_fd);
    if (err != 0) {
      throw CaptureError("--cgroup " + options.target_cgroup +
                         " is not a cgroup v2 directory: " + errno_text(err));
    }
  }

  for (const auto& tp : kTracepoints) {
    bpf_link* link = bpf_program__attach_tracepoint(impl_->program(tp.program),
                                                    std::string(tp.category).c_str(),
                                                    std::string(tp.name).c_str());
    if (link == nullptr) {
      throw CaptureError("cannot attach tracepoint " + std::string(tp.category) + "/" +
                         std::string(tp.name) + ": " + errno_text(errno) +
                         " (is tracefs mounted at /sys/kernel/tracing?)");
    }
    impl_->tracepoints.emplace_back(link);
  }

  impl_->ring.reset(
      ring_buffer__new(bpf_map__fd(skel->maps.events), &Impl::on_ring_record, impl_.get(), nullptr));
  if (!impl_->ring ||
      ring_buffer__add(impl_->ring.get(), bpf_map__fd(skel->maps.proc_events),
                       &Impl::on_proc_record, impl_.get()) != 0) {
    throw CaptureError("cannot set up the ring buffers: " + errno_text(errno));
  }
}

TlsCaptureProgram::~TlsCaptureProgram() {
  // Never leave a process stopped behind us: resume any held while we were attaching.
  expire_pending_attaches(std::chrono::nanoseconds(0));
}

size_t TlsCaptureProgram::expire_pending_attaches(std::chrono::nanoseconds age) {
  const int fd = bpf_map__fd(impl_->skel->maps.pending_attach);
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const uint64_t now_ns = static_cast<uint64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  std::vector<uint32_t> expired;
  uint32_t key = 0;
  uint32_t next = 0;
  const uint32_t* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    llmtap_pending_attach pending{};
    if (bpf_map_lookup_elem(fd, &next, &pending) == 0 &&
        now_ns - pending.since_ns >= static_cast<uint64_t>(age.count())) {
      expired.push_back(next);
    }
    key = next;
    prev = &key;
  }
  size_t resumed = 0;
  for (const uint32_t pid : expired) {
    if (finish_pending_attach(pid)) {
      kill(static_cast<pid_t>(pid), SIGCONT);
      ++resumed;
    }
  }
  return resumed;
}

size_t TlsCaptureProgram::attach_file(const std::string& name, int fd,
                                      const std::vector<probes::FunctionProbe>& plan) {
  // Through the fd the caller holds: a path under /proc/PID/root vanishes when that process
  // exits, possibly halfway through attaching a short-lived process's library.
  const std::string fd_path = "/proc/self/fd/" + std::to_string(fd);
  std::vector<Link> links;
  std::string failures;
  // Every return probe before any entry probe: a call entered after its entry probe but
  // before its return probe would leave an entry that never returns. The reverse (a return
  // whose entry was not seen) the BPF side ignores.
  for (const bool retprobe : {true, false}) {
    for (const auto& probe : plan) {
      const std::string symbol(probe.symbol);
      if (retprobe && probe.return_program.empty()) continue;
      // By offset: libbpf would re-read the whole symbol table for every probe by name
      // (seconds for node's 100 MB).
      LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe);
      bpf_program* prog = impl_->program(retprobe ? probe.return_program : probe.entry_program);
      bpf_link* link = bpf_program__attach_uprobe_opts(prog, -1, fd_path.c_str(),
                                                       probe.file_offset, &opts);
      if (link == nullptr) {
        failures += " " + symbol + (retprobe ? "(return)" : "") + ": " + errno_text(errno) + ";";
        continue;
      }
      links.emplace_back(link);
    }
  }
  if (links.empty()) {
    throw CaptureError("cannot attach any probe to " + name + ":" + failures);
  }
  if (!failures.empty()) spdlog::warn("{}: some probes failed:{}", name, failures);
  const size_t count = links.size();
  auto& slot = impl_->file_links[name];
  for (auto& link : links) slot.push_back(std::move(link));
  return count;
}

void TlsCaptureProgram::detach_file(const std::string& name) {
  auto node = impl_->file_links.extract(name);
  if (!node.empty()) impl_->reaper.reap(std::move(node.mapped()));
}

void TlsCaptureProgram::mark_file_known(const KernelFileKey& file, bool count_users) {
  const llmtap_file_key key{file.dev, file.ino};
  const uint8_t state = count_users ? LLMTAP_FILE_COUNT_USERS : LLMTAP_FILE_QUIET;
  bpf_map__update_elem(impl_->skel->maps.known_files, &key, sizeof(key), &state, sizeof(state),
                       BPF_ANY);
}

void TlsCaptureProgram::forget_file(const KernelFileKey& file) {
  const llmtap_file_key key{file.dev, file.ino};
  bpf_map__delete_elem(impl_->skel->maps.known_files, &key, sizeof(key), 0);
}

void TlsCaptureProgram::watch_process(uint32_t pid) {
  const uint8_t one = 1;
  bpf_map__update_elem(impl_->skel->maps.watched_tgids, &pid, sizeof(pid), &one, sizeof(one),
                       BPF_ANY);
}

void TlsCaptureProgram::quiet_connection(uint32_t pid, uint64_t ssl) {
  // Same layout as the BPF side's struct conn_key.
  struct {
    uint32_t tgid;
    uint32_t pad;
    uint64_t ssl;
  } key{pid, 0, ssl};
  const uint8_t one = 1;
  bpf_map__update_elem(impl_->skel->maps.quiet_conns, &key, sizeof(key), &one, sizeof(one),
                       BPF_ANY);
}

bool TlsCaptureProgram::finish_pending_attach(uint32_t pid) {
  llmtap_pending_attach pending{};
  // Atomic: a hold the kernel makes after this cannot happen, one before is seen here.
  if (bpf_map_lookup_and_delete_elem(bpf_map__fd(impl_->skel->maps.pending_attach), &pid,
                                     &pending) != 0) {
    return false;
  }
  return pending.held != 0;
}

size_t TlsCaptureProgram::attached_probe_count() const {
  size_t n = 0;
  for (const auto& [path, links] : impl_->file_links) n += links.size();
  return n;
}

int TlsCaptureProgram::poll(std::chrono::milliseconds timeout) {
  const int n = ring_buffer__poll(impl_->ring.get(), static_cast<int>(timeout.count()));
  if (n < 0 && n != -EINTR) throw CaptureError("ring buffer poll failed: " + errno_text(n));
  // Records submitted without a wakeup are only found by looking.
  return (n < 0 ? 0 : n) + drain();
}

int TlsCaptureProgram::drain() {
  const int n = ring_buffer__consume(impl_->ring.get());
  return n < 0 ? 0 : n;
}

CaptureCounters TlsCaptureProgram::counters() const {
  const int cpus = libbpf_num_possible_cpus();
  std::array<uint64_t, LLMTAP_STAT_COUNT> totals{};
  std::vector<uint64_t> per_cpu(cpus > 0 ? cpus : 1);
  for (uint32_t idx = 0; idx < LLMTAP_STAT_COUNT; ++idx) {
    if (bpf_map__lookup_elem(impl_->skel->maps.stats, &idx, sizeof(idx), per_cpu.data(),
                             per_cpu.size() * sizeof(uint64_t), 0) != 0) {
      continue;
    }
    for (uint64_t v : per_cpu) totals[idx] += v;
  }
  CaptureCounters c;
  c.calls = totals[LLMTAP_STAT_CALLS];
  c.bytes = totals[LLMTAP_STAT_BYTES];
  c.lost_calls = totals[LLMTAP_STAT_LOST_CALLS];
  c.lost_bytes = totals[LLMTAP_STAT_LOST_BYTES];
  c.lost_records = totals[LLMTAP_STAT_LOST_RECORDS];
  c.truncated_calls = totals[LLMTAP_STAT_TRUNCATED_CALLS];
  c.read_errors = totals[LLMTAP_STAT_READ_ERRORS];
  c.lost_proc_events = totals[LLMTAP_STAT_LOST_PROC_EVENTS];
  c.holds = totals[LLMTAP_STAT_HOLDS];
  c.quiet_bytes = totals[LLMTAP_STAT_QUIET_BYTES];
  return c;
}

uint32_t TlsCaptureProgram::ring_buffer_bytes() const { return impl_->ring_bytes; }

}  // namespace llmtap::capture
