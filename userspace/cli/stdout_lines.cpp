#include "cli/stdout_lines.h"

#include <cstdio>

namespace llmtap::cli {

bool StdoutLines::flush() {
  if (buffer_.empty()) return true;
  const bool ok = std::fwrite(buffer_.data(), 1, buffer_.size(), stdout) == buffer_.size() &&
                  std::fflush(stdout) == 0;
  buffer_.clear();
  return ok;
}

}  // namespace llmtap::cli
