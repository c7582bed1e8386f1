#include "probes/process_maps.h"

#include <dirent.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace llmtap::probes {
namespace {

bool parse_hex(std::string_view text, uint64_t& out) {
  return std::from_chars(text.data(), text.data() + text.size(), out, 16).ec == std::errc{};
}

// One maps line: "start-end perms offset major:minor inode   path".
std::optional<MappedFile> parse_line(std::string_view line) {
  std::string_view fields[5];
  size_t pos = 0;
  for (auto& field : fields) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    const size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) return std::nullopt;
    field = line.substr(pos, end - pos);
    pos = end;
  }
  while (pos < line.size() && line[pos] == ' ') ++pos;
  const std::string_view path = line.substr(pos);
  if (path.empty() || path.front() != '/' || path.ends_with(" (deleted)")) return std::nullopt;

  const std::string_view perms = fields[1];
  const std::string_view device = fields[3];
  const size_t colon = device.find(':');
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t inode = 0;
  if (colon == std::string_view::npos || !parse_hex(device.substr(0, colon), major) ||
      !parse_hex(device.substr(colon + 1), minor) ||
      std::from_chars(fields[4].data(), fields[4].data() + fields[4].size(), inode).ec !=
          std::errc{} ||
      inode == 0) {
    return std::nullopt;
  }
  MappedFile file;
  file.path = std::string(path);
  file.kernel_dev = (major << 20) | minor;
  file.inode = inode;
  file.executable = perms.size() >= 3 && perms[2] == 'x';
  return file;
}

}  // namespace

std::vector<MappedFile> parse_mapped_files(std::string_view maps_text) {
  std::vector<MappedFile> files;
  size_t start = 0;
  while (start < maps_text.size()) {
    size_t end = maps_text.find('\n', start);
    if (end == std::string_view::npos) end = maps_text.size();
    if (auto file = parse_line(maps_text.substr(start, end - start))) {
      auto same = std::find_if(files.begin(), files.end(), [&](const MappedFile& f) {
        return f.inode == file->inode && f.kernel_dev == file->kernel_dev && f.path == file->path;
      });
      if (same == files.end()) {
        files.push_back(std::move(*file));
      } else {
        same->executable |= file->executable;
      }
    }
    start = end + 1;
  }
  return files;
}

std::vector<MappedFile> read_mapped_files(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_mapped_files(text.str());
}

std::vector<pid_t> list_processes() {
  std::vector<pid_t> pids;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return pids;
  while (const dirent* entry = readdir(dir)) {
    pid_t pid = 0;
    const std::string_view name(entry->d_name);
    if (std::from_chars(name.data(), name.data() + name.size(), pid).ec == std::errc{} &&
        pid > 0) {
      pids.push_back(pid);
    }
  }
  closedir(dir);
  return pids;
}

std::string host_path_of(pid_t pid, const std::string& path) {
  return "/proc/" + std::to_string(pid) + "/root" + path;
}

}  // namespace llmtap::probes
