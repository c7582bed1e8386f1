#include "capture/tls_capture_program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
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

constexpr std::array<std::string_view, 8> kSocketSyscalls = {
    "write", "read", "writev", "readv", "sendto", "recvfrom", "sendmsg", "recvmsg"};

uint32_t ring_size_for(uint32_t requested) {
  const uint32_t page = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  return std::bit_ceil(std::max(requested, page));
}

}  // namespace

CaptureOptions::CaptureOptions()
    : max_bytes_per_call(LLMTAP_DEFAULT_MAX_BYTES),
      ring_buffer_bytes(LLMTAP_DEFAULT_RINGBUF_BYTES),
      wakeup_bytes(LLMTAP_DEFAULT_WAKEUP_BYTES) {}

struct TlsCaptureProgram::Impl {
  std::unique_ptr<tls_capture, SkeletonDeleter> skel;
  std::unique_ptr<ring_buffer, RingBufferDeleter> ring;
  std::vector<Link> tracepoints;
  std::map<std::string, std::vector<Link>> file_links;
  RecordHandler on_record;
  uint32_t ring_bytes = 0;

  static int on_ring_record(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Impl*>(ctx);
    self->on_record(std::span(static_cast<const std::byte*>(data), size));
    return 0;
  }

  bpf_program* program(std::string_view name) const {
    bpf_program* prog = bpf_object__find_program_by_name(skel->obj, std::string(name).c_str());
    if (prog == nullptr) throw CaptureError("BPF program " + std::string(name) + " is missing");
    return prog;
  }
};

TlsCaptureProgram::TlsCaptureProgram(const CaptureOptions& options, RecordHandler on_record)
    : impl_(std::make_unique<Impl>()) {
  libbpf_set_print(forward_libbpf_log);
  impl_->on_record = std::move(on_record);

  impl_->skel.reset(tls_capture__open());
  if (!impl_->skel) {
    throw CaptureError("cannot open the BPF object: " + errno_text(errno));
  }
  auto* skel = impl_->skel.get();
  skel->rodata->targ_tgid = options.target_pid;
  skel->rodata->self_tgid = static_cast<uint32_t>(getpid());
  skel->rodata->max_bytes = options.max_bytes_per_call;
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

  for (std::string_view name : kSocketSyscalls) {
    const std::string tp = "sys_enter_" + std::string(name);
    bpf_link* link =
        bpf_program__attach_tracepoint(impl_->program("tp_enter_" + std::string(name)),
                                       "syscalls", tp.c_str());
    if (link == nullptr) {
      throw CaptureError("cannot attach tracepoint syscalls/" + tp + ": " + errno_text(errno) +
                         " (is tracefs mounted at /sys/kernel/tracing?)");
    }
    impl_->tracepoints.emplace_back(link);
  }

  impl_->ring.reset(
      ring_buffer__new(bpf_map__fd(skel->maps.events), &Impl::on_ring_record, impl_.get(), nullptr));
  if (!impl_->ring) throw CaptureError("cannot set up the ring buffer: " + errno_text(errno));
}

TlsCaptureProgram::~TlsCaptureProgram() = default;

size_t TlsCaptureProgram::attach_file(const std::string& path,
                                      const std::vector<probes::FunctionProbe>& plan) {
  std::vector<Link> links;
  std::string failures;
  for (const auto& probe : plan) {
    const std::string symbol(probe.symbol);
    for (const bool retprobe : {false, true}) {
      LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe, .func_name = symbol.c_str());
      bpf_program* prog = impl_->program(retprobe ? probe.return_program : probe.entry_program);
      bpf_link* link = bpf_program__attach_uprobe_opts(prog, -1, path.c_str(), 0, &opts);
      if (link == nullptr) {
        failures += " " + symbol + (retprobe ? "(return)" : "") + ": " + errno_text(errno) + ";";
        continue;
      }
      links.emplace_back(link);
    }
  }
  if (links.empty()) {
    throw CaptureError("cannot attach any probe to " + path + ":" + failures);
  }
  if (!failures.empty()) spdlog::warn("{}: some probes failed:{}", path, failures);
  const size_t count = links.size();
  auto& slot = impl_->file_links[path];
  for (auto& link : links) slot.push_back(std::move(link));
  return count;
}

void TlsCaptureProgram::detach_file(const std::string& path) { impl_->file_links.erase(path); }

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
  return c;
}

uint32_t TlsCaptureProgram::ring_buffer_bytes() const { return impl_->ring_bytes; }

}  // namespace llmtap::capture
