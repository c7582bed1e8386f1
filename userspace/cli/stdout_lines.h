#pragma once
// Batches output lines and writes them to stdout once per poll round.

#include <string>

namespace llmtap::cli {

class StdoutLines {
 public:
  std::string& buffer() { return buffer_; }
  // Writes what is buffered; false when stdout is gone (reader exited), which ends the run.
  bool flush();

 private:
  std::string buffer_;
};

}  // namespace llmtap::cli
