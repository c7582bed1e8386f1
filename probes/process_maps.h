#pragma once
// The files a process maps, from /proc/PID/maps: where discovery finds TLS libraries,
// whatever mount namespace (container) the process lives in.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::probes {

struct MappedFile {
  std::string path;         // as the process sees it (inside its own root)
  uint64_t kernel_dev = 0;  // MAJOR << 20 | MINOR, as the kernel's inode->i_sb->s_dev
  uint64_t inode = 0;
  bool executable = false;  // some mapping of it is r-x
};

// Distinct files in a maps text (pseudo and deleted mappings skipped). Pure, for tests.
std::vector<MappedFile> parse_mapped_files(std::string_view maps_text);

// The files process `pid` maps now; empty if it is gone or unreadable.
std::vector<MappedFile> read_mapped_files(pid_t pid);

// Every process id in /proc.
std::vector<pid_t> list_processes();

// "/proc/PID/root" + path: the file as the host reaches it, in the process's mount namespace.
std::string host_path_of(pid_t pid, const std::string& path);

}  // namespace llmtap::probes
