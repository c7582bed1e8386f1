#include "capture/tls_discovery.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "capture/wall_clock.h"
#include "llmtap_abi.h"
#include "probes/tls_probe_table.h"

namespace llmtap::capture {
namespace {

uint64_t kernel_dev_of(dev_t device) {
  return (static_cast<uint64_t>(major(device)) << 20) | minor(device);
}

// The key the kernel computes for this file, as far as userspace can tell (a filesystem that
// hides its generation from FS_IOC_GETVERSION differs there: the kernel's own key then comes
// with the file's first event, and is marked too).
KernelFileKey kernel_key_of(const probes::FileIdentity& id, uint64_t kernel_dev) {
  return {kernel_dev, id.inode, id.ctime_sec, id.ctime_nsec, id.generation};
}

// examined_ is a cache: bounded, whatever the churn of new files.
constexpr size_t kMaxExamined = 65536;

bool process_alive(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

std::string base_name(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

}  // namespace

TlsDiscovery::TlsDiscovery(TlsCaptureProgram& program, DiscoveryOptions options)
    : program_(program), options_(std::move(options)) {}

void TlsDiscovery::start() {
  for (const auto& path : options_.pinned_files) attach_pinned(path);
  if (!options_.scan_processes) return;
  for (const pid_t pid : probes::list_processes()) examine_process(pid, true);
}

void TlsDiscovery::attach_pinned(const std::string& path) {
  const probes::OpenedFile file(path);
  if (!file.valid()) throw CaptureError(path + ": cannot open: " + std::strerror(errno));
  if (attached_.contains(file.identity().inode_number())) return;
  const auto plan = probes::plan_probes_for_file(file.fd_path());
  if (plan.empty()) throw CaptureError(path + " defines none of the TLS functions llmtap probes");
  examined_[file.identity()] = plan;
  attach(file, path, kernel_key_of(file.identity(), kernel_dev_of(file.identity().device)), plan,
         0);
}

TlsDiscovery::Attachments::iterator TlsDiscovery::attach(
    const probes::OpenedFile& file, const std::string& name, const KernelFileKey& key,
    const std::vector<probes::FunctionProbe>& plan, pid_t user) {
  const size_t n = program_.attach_file(name, file.fd(), plan);
  const bool pinned = user == 0;
  const bool loader = plan.size() == 1 && plan.front().symbol == probes::kLoaderProbeSymbol;
  if (loader) {
    spdlog::debug("watching the dynamic loader {} (pid {}) for TLS libraries", name, user);
    ++stats_.loaders_attached;
    ++loaders_;
  } else if (pinned) {
    spdlog::info("attached {} probes to {}", n, name);
  } else {
    spdlog::info("attached {} probes to {} (pid {})", n, name, user);
  }
  if (!loader) ++stats_.files_attached;
  // A pinned file's users need no counting: its exec/mmap can stay silent.
  program_.mark_file_known(key, /*count_users=*/!pinned);
  auto it = attached_
                .emplace(file.identity().inode_number(), Attachment{name, {key}, {}, pinned, loader})
                .first;
  if (!pinned) add_user(it, user);
  return it;
}

void TlsDiscovery::examine_process(pid_t pid, bool executable_only,
                                   const KernelFileKey* event_key) {
  if (pid == getpid()) return;
  for (const auto& file : probes::read_mapped_files(pid)) {
    if (!executable_only || file.executable) consider(pid, file, event_key);
  }
}

bool TlsDiscovery::consider(pid_t pid, const probes::MappedFile& mapped,
                            const KernelFileKey* event_key) {
  // maps paths are relative to *our* root where the file is reachable from it (a chroot in
  // our mount namespace), else to the process's own root (a container's mount namespace):
  // take whichever opens to the very inode mapped. Opened once: a process gone meanwhile
  // makes us skip the file, never misjudge it.
  std::string host_path = probes::host_path_of(pid, mapped.path);
  std::optional<probes::OpenedFile> opened;
  for (const std::string& candidate : {host_path, mapped.path}) {
    opened.emplace(candidate);
    if (opened->valid() && opened->identity().inode == mapped.inode) {
      host_path = candidate;
      break;
    }
    opened.reset();
  }
  if (!opened) return false;
  const probes::OpenedFile& file = *opened;
  const probes::FileIdentity& id = file.identity();
  const bool evented =
      event_key != nullptr && event_key->dev == mapped.kernel_dev && event_key->ino == mapped.inode;
  const KernelFileKey key = evented ? *event_key : kernel_key_of(id, mapped.kernel_dev);
  if (auto it = attached_.find(id.inode_number()); it != attached_.end()) {
    // The same inode (its probes hold it), perhaps under a new key after a chmod or touch.
    if (it->second.kernel_keys.insert(key).second) {
      ++stats_.reincarnations;
      program_.mark_file_known(key, /*count_users=*/!it->second.pinned);
    }
    add_user(it, pid);
    return false;
  }
  // A file's plan is read once per incarnation, even if it is attached and detached many times.
  auto examined = examined_.find(id);
  if (examined == examined_.end()) {
    if (examined_.size() >= kMaxExamined) examined_.clear();
    std::vector<probes::FunctionProbe> plan;
    try {
      plan = probes::plan_probes_for_file(file.fd_path(), program_.watches_dynamic_loader());
    } catch (const std::exception& e) {
      spdlog::debug("{} is no ELF file llmtap can read: {}", host_path, e.what());
    }
    ++stats_.files_examined;
    examined = examined_.emplace(id, std::move(plan)).first;
  }
  const auto& plan = examined->second;
  if (plan.empty()) {
    program_.mark_file_known(key);
    return false;
  }
  try {
    const auto it = attach(file, host_path, key, plan, pid);
    if (it->second.loader) return false;  // not a TLS file: nothing attached to report
  } catch (const CaptureError& e) {
    spdlog::warn("{}", e.what());
    ++stats_.attach_failures;
    program_.mark_file_known(key);
    return false;
  }
  return true;
}

void TlsDiscovery::add_user(Attachments::iterator it, pid_t pid) {
  if (it->second.pinned) return;  // never detached: no need to count
  it->second.users.insert(pid);
  files_of_pid_[pid].insert(it->first);
  program_.watch_process(static_cast<uint32_t>(pid));
}

void TlsDiscovery::remove_user(pid_t pid) {
  const auto node = files_of_pid_.extract(pid);
  if (node.empty()) return;
  for (const auto& id : node.mapped()) {
    auto it = attached_.find(id);
    if (it == attached_.end()) continue;
    it->second.users.erase(pid);
    if (it->second.users.empty() && !it->second.pinned) detach(it);
  }
}

void TlsDiscovery::detach(Attachments::iterator it) {
  spdlog::info("detached {}: no process maps it any more", it->second.path);
  program_.detach_file(it->second.path);
  for (const auto& key : it->second.kernel_keys) program_.forget_file(key);
  if (it->second.loader) {
    --loaders_;
  } else {
    ++stats_.files_detached;
  }
  attached_.erase(it);
}

void TlsDiscovery::on_library_mapped(pid_t pid, const KernelFileKey& key, const std::string& name,
                                     uint64_t event_mono_ns) {
  // sys_enter_mmap of the text: the file is already mapped (read-only) by the loader, so it
  // is in maps; match by identity, or by name where the two disagree (overlay filesystems).
  const auto files = probes::read_mapped_files(pid);
  for (const auto& file : files) {
    const bool same =
        (file.kernel_dev == key.dev && file.inode == key.ino) || base_name(file.path) == name;
    if (same && consider(pid, file, &key) && on_attached) {
      on_attached(
          {probes::host_path_of(pid, file.path), pid, false, monotonic_now_ns() - event_mono_ns});
    }
  }
  resume_if_held(pid);
}

void TlsDiscovery::resume_if_held(pid_t pid) {
  if (const auto released = program_.end_hold_window(static_cast<uint32_t>(pid))) {
    spdlog::debug("released pid {} held at connect() while attaching, after {} us", pid,
                  released->held_ns / 1000);
  }
}

void TlsDiscovery::on_proc_event(std::span<const std::byte> record) {
  if (record.size() < sizeof(llmtap_proc_event)) return;
  llmtap_proc_event ev;
  std::memcpy(&ev, record.data(), sizeof(ev));
  const auto pid = static_cast<pid_t>(ev.pid);
  switch (ev.kind) {
    case LLMTAP_PROC_EXEC: {
      ++stats_.exec_events;
      const size_t before = stats_.files_attached;
      const size_t loaders_before = stats_.loaders_attached;
      const KernelFileKey key{ev.file.dev, ev.file.ino, ev.file.ctime_sec, ev.file.ctime_nsec,
                              ev.file.generation};
      examine_process(pid, true, &key);
      // A loader probed just now misses what it loaded before its probe was in: those
      // libraries are in the maps by now (the process is held at connect() meanwhile).
      if (stats_.loaders_attached != loaders_before) examine_process(pid, true, &key);
      if (stats_.files_attached != before && on_attached) {
        on_attached(
            {"/proc/" + std::to_string(pid) + "/exe", pid, true, monotonic_now_ns() - ev.mono_ns});
      }
      resume_if_held(pid);
      return;
    }
    case LLMTAP_PROC_LIB_MAPPED:
      ++stats_.lib_events;
      on_library_mapped(
          pid,
          {ev.file.dev, ev.file.ino, ev.file.ctime_sec, ev.file.ctime_nsec, ev.file.generation},
          std::string(ev.name, strnlen(ev.name, sizeof(ev.name))), ev.mono_ns);
      return;
    case LLMTAP_PROC_EXIT:
      ++stats_.exit_events;
      remove_user(pid);
      if (on_exit) on_exit(pid, ev.mono_ns);
      return;
    default:
      return;
  }
}

void TlsDiscovery::reconcile() {
  std::vector<pid_t> gone;
  for (const auto& [pid, files] : files_of_pid_) {
    if (!process_alive(pid)) gone.push_back(pid);
  }
  for (const pid_t pid : gone) remove_user(pid);
}

}  // namespace llmtap::capture
