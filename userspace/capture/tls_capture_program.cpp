#include "capture/tls_capture_program.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstring>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>

#include "capture/hold_guard.h"
#include "capture/hold_pins.h"
#include "capture/ring_size.h"
#include "capture/wall_clock.h"
#include "llmtap_abi.h"
#include "tls_capture.skel.h"

namespace llmtap::capture {
namespace {

// Same layout as the BPF side's struct conn_key.
struct ConnKey {
  uint32_t tgid;
  uint32_t pad;
  uint64_t ssl;
};

// Puts `key` in a set-like map (its value: one byte, 1). A full map takes no more.
template <typename Key>
void add_to_set(bpf_map* map, const Key& key) {
  const uint8_t one = 1;
  bpf_map__update_elem(map, &key, sizeof(key), &one, sizeof(one), BPF_ANY);
}

// A connection's entry in quiet_conns: an enum llmtap_quiet_mode.
void set_quiet_mode(bpf_map* quiet_conns, const ConnKey& key, uint8_t mode, uint64_t flags) {
  bpf_map__update_elem(quiet_conns, &key, sizeof(key), &mode, sizeof(mode), flags);
}

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
  std::string_view category;  // empty: a raw tracepoint
  std::string_view name;
};

// On every kernel: process lifecycle, and TCP state changes (a connection's end; a connect
// to hold while attaching).
constexpr std::array<Tracepoint, 2> kCommonTracepoints = {{
    {"tp_process_exit", "sched", "sched_process_exit"},
    {"rtp_inet_sock_set_state", "", "inet_sock_set_state"},
}};

// 6.3+: which socket a TLS call uses, from the socket layer (only socket I/O pays); new
// executables and their loaders (new libraries come through the loader's probe).
constexpr std::array<Tracepoint, 3> kSocketLayerTracepoints = {{
    {"rtp_sock_send", "", "sock_send_length"},
    {"rtp_sock_recv", "", "sock_recv_length"},
    {"tp_process_exec_loader", "sched", "sched_process_exec"},
}};

// Before 6.3: the read/write-family syscalls made inside a TLS call, close(), and mmap() of
// a TLS library. Attaching any syscall tracepoint slows every syscall of every task.
constexpr std::array<Tracepoint, 11> kSyscallTracepoints = {{
    {"tp_enter_write", "syscalls", "sys_enter_write"},
    {"tp_enter_read", "syscalls", "sys_enter_read"},
    {"tp_enter_writev", "syscalls", "sys_enter_writev"},
    {"tp_enter_readv", "syscalls", "sys_enter_readv"},
    {"tp_enter_sendto", "syscalls", "sys_enter_sendto"},
    {"tp_enter_recvfrom", "syscalls", "sys_enter_recvfrom"},
    {"tp_enter_sendmsg", "syscalls", "sys_enter_sendmsg"},
    {"tp_enter_recvmsg", "syscalls", "sys_enter_recvmsg"},
    {"tp_enter_close", "syscalls", "sys_enter_close"},
    {"tp_enter_mmap", "syscalls", "sys_enter_mmap"},
    {"tp_process_exec", "sched", "sched_process_exec"},
}};

// Programs attached to files, not tracepoints, that only one mode uses.
constexpr std::string_view kLoaderProgram = "dl_debug_state";

// The kernel has the socket layer's tracepoints (sock_send_length, sock_recv_length: 6.3).
bool kernel_has_socket_length_tracepoints() {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (vmlinux == nullptr) return false;
  const bool found =
      btf__find_by_name_kind(vmlinux, "btf_trace_sock_send_length", BTF_KIND_TYPEDEF) > 0 &&
      btf__find_by_name_kind(vmlinux, "btf_trace_sock_recv_length", BTF_KIND_TYPEDEF) > 0;
  btf__free(vmlinux);
  return found;
}

}  // namespace

CaptureOptions::CaptureOptions()
    : hold_deadline(LLMTAP_DEFAULT_HOLD_DEADLINE_NS),
      max_bytes_per_call(LLMTAP_DEFAULT_MAX_BYTES),
      ring_buffer_bytes(0),
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
  HoldStats holds;
  std::unique_ptr<HoldPins> hold_pins;      // while holds may exist
  std::unique_ptr<HoldGuardProcess> guard;  // likewise
  std::chrono::milliseconds hold_deadline{0};
  bool socket_layer = false;  // socket-layer tracepoints and the loader probe, not syscalls

  void attach_tracepoint(const Tracepoint& tp) {
    bpf_program* prog = program(tp.program);
    bpf_link* link = tp.category.empty()
                         ? bpf_program__attach_raw_tracepoint(prog, std::string(tp.name).c_str())
                         : bpf_program__attach_tracepoint(prog, std::string(tp.category).c_str(),
                                                          std::string(tp.name).c_str());
    if (link == nullptr) {
      const std::string what = tp.category.empty()
                                   ? "raw tracepoint " + std::string(tp.name)
                                   : "tracepoint " + std::string(tp.category) + "/" +
                                         std::string(tp.name);
      throw CaptureError("cannot attach " + what + ": " + errno_text(errno) +
                         " (is tracefs mounted at /sys/kernel/tracing?)");
    }
    tracepoints.emplace_back(link);
  }

  HoldTable hold_table() const { return HoldTable(bpf_map__fd(skel->maps.holds)); }
  void count_release(const ReleasedHold& r) {
    ++holds.released;
    holds.hold_time.add(r.held_ns);
  }

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
  // The hold machinery (table, pins, guard) serves both kinds of hold.
  const bool holds = options.hold_while_attaching || options.prevent;
  if (!holds) impl_->holds.why_disabled = "--no-hold";
  skel->rodata->hold_while_attaching = options.hold_while_attaching;
  impl_->hold_deadline =
      std::chrono::duration_cast<std::chrono::milliseconds>(options.hold_deadline);
  if (!options.target_comm.empty()) {
    // The kernel keeps 15 characters of a command name.
    std::strncpy(const_cast<char*>(skel->rodata->targ_comm), options.target_comm.c_str(),
                 LLMTAP_COMM_LEN - 1);
  }
  skel->rodata->filter_cgroup = !options.target_cgroup.empty();
  impl_->ring_bytes =
      ring_bytes_for(options.ring_buffer_bytes, options.max_bytes_per_call,
                     static_cast<uint32_t>(sysconf(_SC_PAGESIZE)));
  // Never wait for more than an eighth of the ring: a burst must not fill it before we wake.
  skel->rodata->wakeup_bytes = std::min(options.wakeup_bytes, impl_->ring_bytes / 8);
  bpf_map__set_max_entries(skel->maps.events, impl_->ring_bytes);
  impl_->socket_layer = options.socket_hooks == CaptureOptions::SocketHooks::kAuto &&
                        kernel_has_socket_length_tracepoints();
  // Only one mode's programs are loaded: the other's may use what this kernel lacks.
  if (impl_->socket_layer) {
    for (const auto& tp : kSyscallTracepoints) {
      bpf_program__set_autoload(impl_->program(tp.program), false);
    }
  } else {
    for (const auto& tp : kSocketLayerTracepoints) {
      bpf_program__set_autoload(impl_->program(tp.program), false);
    }
    bpf_program__set_autoload(impl_->program(kLoaderProgram), false);
  }

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
    const int err = bpf_map__update_elem(skel->maps.cgroup_filter, &zero, sizeof(zero), &cgroup_fd,
                                         sizeof(cgroup_fd), BPF_ANY);
    close(cgroup_fd);
    if (err != 0) {
      throw CaptureError("--cgroup " + options.target_cgroup +
                         " is not a cgroup v2 directory: " + errno_text(err));
    }
  }

  for (const auto& tp : kCommonTracepoints) impl_->attach_tracepoint(tp);
  if (impl_->socket_layer) {
    for (const auto& tp : kSocketLayerTracepoints) impl_->attach_tracepoint(tp);
  } else {
    for (const auto& tp : kSyscallTracepoints) impl_->attach_tracepoint(tp);
  }
  spdlog::debug("sockets of TLS calls learned from {}", socket_hooks());

  // What a dead llmtap left stopped is resumed before anything else (a no-op without pins).
  if (const OrphanSweep sweep = sweep_orphaned_holds(); sweep.agents != 0) {
    impl_->holds.orphans_resumed = sweep.resumed;
    spdlog::warn("resumed {} processes left stopped by {} llmtap processes that are gone",
                 sweep.resumed, sweep.agents);
  }
  impl_->ring.reset(ring_buffer__new(bpf_map__fd(skel->maps.events), &Impl::on_ring_record,
                                     impl_.get(), nullptr));
  if (!impl_->ring || ring_buffer__add(impl_->ring.get(), bpf_map__fd(skel->maps.proc_events),
                                       &Impl::on_proc_record, impl_.get()) != 0) {
    throw CaptureError("cannot set up the ring buffers: " + errno_text(errno));
  }
  // Last, so that a constructor that throws never leaves holds behind.
  // A stop is only ever made with the guard in place (docs/hold-safety.md).
  if (holds) {
    try {
      if (ensure_bpffs_mounted()) spdlog::info("mounted bpffs at {}", kBpffsRoot);
      impl_->hold_pins =
          std::make_unique<HoldPins>(bpf_map__fd(skel->maps.holds), bpf_map__fd(skel->maps.bss),
                                     bpf_map__fd(skel->maps.hold_notices));
      impl_->guard =
          std::make_unique<HoldGuardProcess>(impl_->hold_pins->dir(), impl_->hold_deadline);
      __atomic_store_n(&skel->bss->holds_enabled, 1, __ATOMIC_SEQ_CST);
      impl_->holds.enabled = true;
      if (options.prevent) {
        skel->bss->prevent_deadline_ms = static_cast<uint32_t>(options.prevent_deadline.count());
        skel->bss->prevent_fail_closed = options.prevent_fail_closed ? 1 : 0;
        skel->bss->prevent_new_conns = options.prevent_new_connections ? 1 : 0;
        __atomic_store_n(&skel->bss->prevent_enabled, 1, __ATOMIC_SEQ_CST);
      }
    } catch (const CaptureError& e) {
      impl_->guard.reset();
      impl_->hold_pins.reset();
      impl_->holds.why_disabled = e.what();
    }
  }
  if (!impl_->holds.enabled && options.prevent) {
    spdlog::error(
        "prevent mode is off: writes cannot be held ({}); rules that hold are enforced after "
        "the fact (the connection is reset once the call is seen)",
        impl_->holds.why_disabled);
  }
  if (!impl_->holds.enabled && options.hold_while_attaching) {
    spdlog::warn(
        "not holding processes while their TLS code is attached: {}; a process "
        "that connects within milliseconds of starting may have its first bytes "
        "missed",
        impl_->holds.why_disabled);
  }
}

TlsCaptureProgram::~TlsCaptureProgram() { stop_holding(); }

void TlsCaptureProgram::stop_holding() {
  if (!impl_->holds.enabled) return;
  auto* bss = impl_->skel->bss;
  // Switch off first: a hold program that saw the switch on has already announced itself
  // in holds_inflight (it adds before it looks), so once the count is 0 every stop ever
  // decided is in the table, and no new one can be made.
  __atomic_store_n(&bss->prevent_enabled, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&bss->holds_enabled, 0, __ATOMIC_SEQ_CST);
  for (int spins = 0; __atomic_load_n(&bss->holds_inflight, __ATOMIC_SEQ_CST) != 0; ++spins) {
    if (spins == 100000) {
      // A BPF program runs for microseconds; never seen.
      spdlog::error("hold programs still running after 1 s; sweeping anyway");
      break;
    }
    usleep(10);
  }
  for (const auto& r : impl_->hold_table().release_all(monotonic_now_ns())) {
    impl_->count_release(r);
  }
  impl_->holds.enabled = false;
  impl_->guard.reset();  // its last sweep finds the table empty
  impl_->holds.released_by_guard = __atomic_load_n(&bss->holds_released_by_guard, __ATOMIC_SEQ_CST);
  impl_->hold_pins.reset();
}

const HoldStats& TlsCaptureProgram::hold_stats() const {
  if (impl_->holds.enabled) {
    impl_->holds.released_by_guard =
        __atomic_load_n(&impl_->skel->bss->holds_released_by_guard, __ATOMIC_SEQ_CST);
  }
  return impl_->holds;
}

void TlsCaptureProgram::check_hold_guard() {
  if (!impl_->holds.enabled || impl_->guard->alive()) return;
  spdlog::error("the hold guard exited; starting a new one");
  try {
    impl_->guard =
        std::make_unique<HoldGuardProcess>(impl_->hold_pins->dir(), impl_->hold_deadline);
  } catch (const CaptureError& e) {
    spdlog::error("{}: holds switched off", e.what());
    stop_holding();
  }
}

std::optional<ReleasedHold> TlsCaptureProgram::end_hold_window(uint32_t pid) {
  bpf_map__delete_elem(impl_->skel->maps.hold_tokens, &pid, sizeof(pid), 0);
  // Only an attach hold: a writer held in prevent mode waits for its judgement.
  llmtap_hold hold{};
  if (bpf_map__lookup_elem(impl_->skel->maps.holds, &pid, sizeof(pid), &hold, sizeof(hold), 0) !=
          0 ||
      hold.reason != LLMTAP_HOLD_ATTACH) {
    return std::nullopt;
  }
  auto released = impl_->hold_table().release(static_cast<pid_t>(pid), monotonic_now_ns());
  if (released) impl_->count_release(*released);
  return released;
}

bool TlsCaptureProgram::preventing() const {
  return impl_->holds.enabled &&
         __atomic_load_n(&impl_->skel->bss->prevent_enabled, __ATOMIC_SEQ_CST) != 0;
}

void TlsCaptureProgram::hold_writes_to(const Endpoint& server) {
  llmtap_endpoint key{};
  std::memcpy(key.addr, server.addr.data(), sizeof(key.addr));
  key.port = server.port;
  key.family = server.family;
  // A full map (4,096 servers) holds no more: writes to the rest are judged after the fact.
  add_to_set(impl_->skel->maps.prevent_endpoints, key);
}

void TlsCaptureProgram::exempt_from_write_holds(uint32_t pid, uint64_t ssl) {
  add_to_set(impl_->skel->maps.prevent_exempt, ConnKey{pid, 0, ssl});
}

void TlsCaptureProgram::clear_write_hold_exemptions() {
  const int fd = bpf_map__fd(impl_->skel->maps.prevent_exempt);
  ConnKey key{};
  // Deleting while walking restarts the walk each time: bounded by the map's size.
  for (size_t i = 0; i < LLMTAP_MAX_CONNS && bpf_map_get_next_key(fd, nullptr, &key) == 0; ++i) {
    bpf_map_delete_elem(fd, &key);
  }
}

std::optional<ReleasedHold> TlsCaptureProgram::release_write_hold(uint32_t pid, bool kill) {
  auto released = impl_->hold_table().release(static_cast<pid_t>(pid), monotonic_now_ns(),
                                              kill ? HoldEnd::kKill : HoldEnd::kResume);
  if (released) impl_->count_release(*released);
  return released;
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
      LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = probe.cookie, .retprobe = retprobe);
      bpf_program* prog = impl_->program(retprobe ? probe.return_program : probe.entry_program);
      bpf_link* link =
          bpf_program__attach_uprobe_opts(prog, -1, fd_path.c_str(), probe.file_offset, &opts);
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

namespace {
llmtap_file_key abi_key(const KernelFileKey& f) {
  return {f.dev, f.ino, f.ctime_sec, f.ctime_nsec, f.generation};
}
}  // namespace

void TlsCaptureProgram::mark_file_known(const KernelFileKey& file, bool count_users) {
  const llmtap_file_key key = abi_key(file);
  const uint8_t state = count_users ? LLMTAP_FILE_COUNT_USERS : LLMTAP_FILE_QUIET;
  bpf_map__update_elem(impl_->skel->maps.known_files, &key, sizeof(key), &state, sizeof(state),
                       BPF_ANY);
}

void TlsCaptureProgram::forget_file(const KernelFileKey& file) {
  const llmtap_file_key key = abi_key(file);
  bpf_map__delete_elem(impl_->skel->maps.known_files, &key, sizeof(key), 0);
}

void TlsCaptureProgram::watch_process(uint32_t pid) {
  add_to_set(impl_->skel->maps.watched_tgids, pid);
}

void TlsCaptureProgram::quiet_connection(uint32_t pid, uint64_t ssl) {
  set_quiet_mode(impl_->skel->maps.quiet_conns, ConnKey{pid, 0, ssl}, LLMTAP_QUIET_ALL, BPF_ANY);
}

void TlsCaptureProgram::quiet_connection_until_llm_request(uint32_t pid, uint64_t ssl) {
  // Never while no pattern is set: nothing could resume the connection. BPF_NOEXIST: a
  // connection quiet altogether stays so.
  if (llm_request_path_count() == 0) return;
  set_quiet_mode(impl_->skel->maps.quiet_conns, ConnKey{pid, 0, ssl},
                 LLMTAP_QUIET_UNTIL_LLM_REQUEST, BPF_NOEXIST);
}

void TlsCaptureProgram::forget_quiet_connection(uint32_t pid, uint64_t ssl) {
  const ConnKey key{pid, 0, ssl};
  bpf_map__delete_elem(impl_->skel->maps.quiet_conns, &key, sizeof(key), 0);
}

void TlsCaptureProgram::set_llm_request_paths(
    const std::vector<std::pair<std::string, bool>>& patterns) {
  uint32_t count = 0;
  for (const auto& [text, suffix] : patterns) {
    if (count == LLMTAP_MAX_PATH_PATTERNS) break;
    if (text.empty() || text.size() >= LLMTAP_PATH_PATTERN_LEN) continue;
    llmtap_path_pattern p{};
    p.len = static_cast<uint8_t>(text.size());
    p.suffix = suffix ? 1 : 0;
    std::memcpy(p.text, text.data(), text.size());
    bpf_map__update_elem(impl_->skel->maps.llm_request_paths, &count, sizeof(count), &p,
                         sizeof(p), BPF_ANY);
    ++count;
  }
  __atomic_store_n(&impl_->skel->bss->llm_path_count, count, __ATOMIC_SEQ_CST);
}

size_t TlsCaptureProgram::llm_request_path_count() const {
  return __atomic_load_n(&impl_->skel->bss->llm_path_count, __ATOMIC_SEQ_CST);
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

void TlsCaptureProgram::set_reader_idle(bool idle) {
  // Sequentially consistent: a record submitted after this store sees it (the poll that
  // follows finds any submitted before).
  __atomic_store_n(&impl_->skel->bss->reader_idle, idle ? 1u : 0u, __ATOMIC_SEQ_CST);
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
  c.holds_skipped = totals[LLMTAP_STAT_HOLDS_SKIPPED];
  c.prevent_holds = totals[LLMTAP_STAT_PREVENT_HOLDS];
  c.prevent_unbound = totals[LLMTAP_STAT_PREVENT_UNBOUND];
  c.prevent_retries = totals[LLMTAP_STAT_PREVENT_RETRIES];
  return c;
}

uint32_t TlsCaptureProgram::ring_buffer_bytes() const { return impl_->ring_bytes; }

std::string_view TlsCaptureProgram::socket_hooks() const {
  return impl_->socket_layer ? "socket" : "syscalls";
}

bool TlsCaptureProgram::watches_dynamic_loader() const { return impl_->socket_layer; }

}  // namespace llmtap::capture
