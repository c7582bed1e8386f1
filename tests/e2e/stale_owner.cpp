#include "stale_owner.h"

#include <signal.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <iterator>

namespace llmtap::e2e {

std::optional<pid_t> owner_pid(const std::string& name, std::string_view prefix) {
  if (!name.starts_with(prefix)) return std::nullopt;
  pid_t pid = 0;
  const char* first = name.data() + prefix.size();
  const char* last = name.data() + name.size();
  const auto [end, error] = std::from_chars(first, last, pid);
  if (error != std::errc() || end == first || end == last || *end != '-') return std::nullopt;
  return pid;
}

bool process_alive(pid_t pid) {
  if (kill(pid, 0) != 0 && errno != EPERM) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  const std::string line{std::istreambuf_iterator<char>(stat), {}};
  const auto comm_end = line.rfind(')');  // the command name may contain anything
  return comm_end == std::string::npos || comm_end + 2 >= line.size() || line[comm_end + 2] != 'Z';
}

}  // namespace llmtap::e2e
