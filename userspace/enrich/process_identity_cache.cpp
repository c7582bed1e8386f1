#include "enrich/process_identity_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <string_view>
#include <utility>
#include <vector>

#include "common/file_prefix.h"
#include "enrich/command_line_redaction.h"
#include "enrich/workload_resolver.h"

namespace llmtap::enrich {

ProcessIdentityCache::ProcessIdentityCache(std::string proc_root, size_t max_entries,
                                           size_t max_cmdline_bytes)
    : proc_root_(std::move(proc_root)),
      max_entries_(max_entries),
      max_cmdline_bytes_(max_cmdline_bytes) {}

const llm::ProcessIdentity& ProcessIdentityCache::lookup(uint32_t pid, uint32_t uid,
                                                         uint64_t cgroup_id,
                                                         std::string_view comm) {
  auto it = entries_.find(pid);
  if (it == entries_.end()) {
    // No exit seen for a long time (missed exits): start over rather than grow without bound.
    if (entries_.size() >= max_entries_) {
      evictions_ += entries_.size();
      entries_.clear();
    }
    llm::ProcessIdentity identity;
    identity.pid = pid;
    identity.exe = read_exe(pid);
    identity.cmdline = read_cmdline(pid);
    ++proc_reads_;
    it = entries_.emplace(pid, std::move(identity)).first;
  }
  // These can change over a process's life (setuid, prctl, cgroup moves): the capture's
  // values are the current ones.
  llm::ProcessIdentity& identity = it->second;
  identity.uid = uid;
  identity.cgroup_id = cgroup_id;
  if (workloads_ != nullptr) identity.workload = workloads_->resolve(pid, cgroup_id);
  if (identity.comm != comm) {
    // A new name may mean an exec (or only another thread's name): the executable tells.
    if (!identity.comm.empty()) {
      std::string exe = read_exe(pid);
      if (!exe.empty() && exe != identity.exe) {
        identity.exe = std::move(exe);
        identity.cmdline = read_cmdline(pid);
        ++proc_reads_;
      }
    }
    identity.comm.assign(comm);
  }
  return identity;
}

void ProcessIdentityCache::forget(uint32_t pid) {
  entries_.erase(pid);
  if (workloads_ != nullptr) workloads_->forget(pid);
}

std::string ProcessIdentityCache::read_exe(uint32_t pid) const {
  const std::string link = proc_root_ + "/" + std::to_string(pid) + "/exe";
  std::array<char, 4096> buffer;
  const ssize_t n = ::readlink(link.c_str(), buffer.data(), buffer.size());
  if (n <= 0 || static_cast<size_t>(n) >= buffer.size()) return {};
  return std::string(buffer.data(), static_cast<size_t>(n));
}

std::string ProcessIdentityCache::read_cmdline(uint32_t pid) const {
  const std::string path = proc_root_ + "/" + std::to_string(pid) + "/cmdline";
  const std::string text = read_file_prefix(path, max_cmdline_bytes_).value_or("");
  std::vector<std::string> argv;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    argv.emplace_back(text, start, end - start);
    start = end + 1;
  }
  return redact_command_line(argv);
}

}  // namespace llmtap::enrich
