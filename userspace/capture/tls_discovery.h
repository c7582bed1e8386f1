#pragma once
// Finds every TLS user on the host and keeps the probes on the files they use: at start from
// /proc/*/maps (any mount namespace), then from the kernel's exec / library-mapped / exit
// events. Probes belong to a file: one attach serves every process that maps it; a file
// nobody maps any more is detached (unless pinned: the system libraries and --lib files).

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "capture/tls_capture_program.h"
#include "probes/file_identity.h"
#include "probes/process_maps.h"
#include "probes/tls_probe_table.h"

namespace llmtap::capture {

struct DiscoveryOptions {
  std::vector<std::string> pinned_files;  // attached for the whole run
  bool scan_processes = true;             // also find TLS users among running processes
};

struct DiscoveryStats {
  uint64_t files_examined = 0;  // distinct files whose ELF symbols were read
  uint64_t files_attached = 0;
  uint64_t files_detached = 0;
  uint64_t attach_failures = 0;
  uint64_t exec_events = 0;
  uint64_t lib_events = 0;
  uint64_t exit_events = 0;
  uint64_t reincarnations = 0;  // an attached inode seen under a new key (metadata changed)
  uint64_t loaders_attached = 0;  // dynamic loaders (ld.so) probed: libraries loaded later
};

// An attach made in answer to a kernel event: how long after the event it was in place.
struct AttachLatency {
  std::string path;
  pid_t pid = 0;
  bool from_exec = false;  // exec event (else: library mapped)
  uint64_t latency_ns = 0;
};

class TlsDiscovery {
 public:
  TlsDiscovery(TlsCaptureProgram& program, DiscoveryOptions options);

  // Attaches the pinned files and, if asked, every TLS file running processes map.
  void start();
  // One record from the process-event ring (llmtap_proc_event).
  void on_proc_event(std::span<const std::byte> record);
  // Drops users that died without an exit event; detaches files nobody maps.
  void reconcile();

  const DiscoveryStats& stats() const { return stats_; }
  // TLS files (libraries, executables) probed now; dynamic loaders not counted.
  size_t attached_files() const { return attached_.size() - loaders_; }
  std::function<void(const AttachLatency&)> on_attached;
  // A watched process (it maps an attached file or owns a connection) exited.
  std::function<void(pid_t pid, uint64_t mono_ns)> on_exit;

 private:
  struct Attachment {
    std::string path;  // the path attached through (and detached by)
    // Every incarnation key the kernel knows it by (a metadata change gives a new change
    // time, hence a new key, to the same attached inode).
    std::set<KernelFileKey> kernel_keys;
    std::set<pid_t> users;
    bool pinned = false;
    bool loader = false;  // a dynamic loader (its probe finds libraries), not a TLS file
  };
  // By inode number: an attached inode is held by its probes, so its number cannot pass to
  // another file while it is in here.
  using Attachments = std::map<probes::InodeNumber, Attachment>;

  void attach_pinned(const std::string& path);
  // Attaches an examined TLS file as `name` and records it; `user` is the process that maps
  // it, or 0 for a pinned file. Throws CaptureError when the kernel refuses.
  Attachments::iterator attach(const probes::OpenedFile& file, const std::string& name,
                               const KernelFileKey& key,
                               const std::vector<probes::FunctionProbe>& plan, pid_t user);
  // `event_key`: the kernel's key of the file an event was about (authoritative for it).
  void examine_process(pid_t pid, bool executable_only, const KernelFileKey* event_key = nullptr);
  // Returns true when this call attached the file.
  bool consider(pid_t pid, const probes::MappedFile& file, const KernelFileKey* event_key);
  void add_user(Attachments::iterator it, pid_t pid);
  void remove_user(pid_t pid);
  void detach(Attachments::iterator it);
  // Ends the pid's hold window; resumes it if the kernel held it at connect() meanwhile.
  void resume_if_held(pid_t pid);
  void on_library_mapped(pid_t pid, const KernelFileKey& key, const std::string& name,
                         uint64_t event_mono_ns);

  TlsCaptureProgram& program_;
  DiscoveryOptions options_;
  size_t loaders_ = 0;  // of attached_
  // One incarnation -> its probe plan (empty: no TLS functions). A reused inode number is a
  // new incarnation, never served a plan read from the file that had the number before.
  std::map<probes::FileIdentity, std::vector<probes::FunctionProbe>> examined_;
  Attachments attached_;
  std::map<pid_t, std::set<probes::InodeNumber>> files_of_pid_;
  DiscoveryStats stats_;
};

}  // namespace llmtap::capture
