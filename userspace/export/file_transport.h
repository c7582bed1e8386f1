#pragma once
// Events to a local file as JSON lines, rotated by size (events.jsonl -> events.jsonl.1 -> ...,
// keeping `keep` old files) with a chosen durability: fsync never (the page cache decides),
// after every batch, or at most once per interval. Runs on its sink's delivery thread, so a
// slow disk delays only this sink.

#include <chrono>
#include <cstdint>
#include <string>

#include "export/transport.h"

namespace llmtap::exporter {

struct FileTarget {
  std::string path;
  uint64_t max_bytes = uint64_t{100} << 20;  // rotate when the file would grow past this
  unsigned keep = 5;                          // rotated files kept (0: none, truncate instead)
  enum class Fsync { kNever, kBatch, kInterval } fsync = Fsync::kInterval;
  std::chrono::milliseconds fsync_interval{1000};
  unsigned mode = 0640;
};

class FileTransport : public Transport {
 public:
  explicit FileTransport(FileTarget target);  // throws std::runtime_error when it cannot open
  ~FileTransport() override;
  SendResult send(std::span<const OutRecord> records) override;
  std::string describe() const override { return "file " + target_.path; }
  uint64_t rotations() const { return rotations_; }

 private:
  bool open_file(std::string& error);
  bool rotate(std::string& error);

  FileTarget target_;
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t rotations_ = 0;
  std::chrono::steady_clock::time_point last_sync_{};
};

}  // namespace llmtap::exporter
