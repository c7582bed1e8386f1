#pragma once
// A sink's records on disk while its destination is down or slow: append at the tail, read
// and acknowledge at the head, oldest first, within a byte budget. Records live in segment
// files of one severity class each ("low": Unknown, Informational, Low; "high": the rest), so
// when the budget is full the oldest low-severity records go first, then the oldest others;
// every dropped record is counted. Each record carries a CRC: a torn write at a crash is
// found and cut, never sent. Not thread-safe: its delivery thread owns it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "export/transport.h"

namespace llmtap::exporter {

struct DiskSpoolStats {
  uint64_t appended = 0;
  uint64_t acknowledged = 0;
  uint64_t dropped_low = 0;   // low-severity records dropped for the budget
  uint64_t dropped_high = 0;  // others dropped for the budget (no low ones were left)
  uint64_t corrupt = 0;       // records cut at open (torn writes, bad CRC)
  uint64_t write_errors = 0;  // appends the disk refused (full, I/O error): dropped
};

class DiskSpool {
 public:
  // Opens (creating) `dir`; records a previous run left are kept and read first. Throws
  // std::runtime_error when the directory cannot be used.
  DiskSpool(std::string dir, uint64_t budget_bytes, uint64_t segment_bytes = 4 << 20);
  ~DiskSpool();
  DiskSpool(const DiskSpool&) = delete;
  DiskSpool& operator=(const DiskSpool&) = delete;

  void append(const OutRecord& record);
  // Up to the limits, from the head, without taking them; the same again until acknowledge().
  std::vector<OutRecord> peek(size_t max_records, size_t max_bytes);
  void acknowledge(size_t records);  // the first `records` of the last peek() were delivered

  bool empty() const { return records_ == 0; }
  uint64_t records() const { return records_; }
  // Bytes of records not yet acknowledged (what the budget bounds; a segment's acknowledged
  // part stays on disk until the whole segment is read: at most one segment more).
  uint64_t bytes() const { return bytes_; }
  const DiskSpoolStats& stats() const { return stats_; }

 private:
  struct Segment {
    uint64_t seq = 0;
    bool high = false;
    std::string path;
    uint64_t bytes = 0;         // file size
    uint64_t records = 0;       // records not yet acknowledged
    uint64_t read_offset = 0;   // first byte not acknowledged
  };
  void load_existing();
  Segment& writable(bool high);
  void drop_for(uint64_t incoming);
  void remove_segment(size_t index);
  void close_writer(bool high);

  std::string dir_;
  uint64_t budget_;
  uint64_t segment_bytes_;
  std::deque<Segment> segments_;  // by seq: the head is the front
  int writer_fd_[2] = {-1, -1};   // open segment per class (low, high)
  uint64_t writer_seq_[2] = {0, 0};
  uint64_t next_seq_ = 1;
  uint64_t records_ = 0;
  uint64_t bytes_ = 0;
  // peek(): where each peeked record ends, to acknowledge by count.
  std::vector<std::pair<uint64_t, uint64_t>> peeked_;  // (segment seq, end offset)
  DiskSpoolStats stats_;
};

}  // namespace llmtap::exporter
