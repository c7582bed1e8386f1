#pragma once
// Delivery to one destination, on its own thread, so that a slow or dead destination never
// slows the pipeline: submit() only appends to a bounded hand-off list. The thread formats each
// event for the destination, keeps records in a bounded memory queue, sends them in batches,
// and while the destination fails (or the memory queue is full) keeps them in a disk spool,
// retrying with exponential backoff and jitter; once the destination answers again the spool
// drains, oldest first. At-least-once: a batch whose fate is unknown is sent again (events
// carry metadata.uid for the receiver to drop duplicates). Every record that does not arrive is
// counted by why.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "export/disk_spool.h"
#include "export/export_event.h"
#include "export/transport.h"

namespace llmtap::exporter {

struct DeliveryOptions {
  size_t handoff_bytes = size_t{64} << 20;  // events not yet taken by the thread
  size_t memory_records = 10000;
  size_t memory_bytes = size_t{16} << 20;
  std::string spool_dir;  // "" = no spool: a full memory queue drops its oldest low-severity
  uint64_t spool_budget_bytes = uint64_t{1} << 30;
  uint64_t spool_segment_bytes = uint64_t{4} << 20;
  std::chrono::milliseconds batch_delay{200};  // a batch waits at most this long to fill
  std::chrono::milliseconds backoff_min{500};
  std::chrono::milliseconds backoff_max{30000};
  std::chrono::milliseconds shutdown_flush{3000};  // at stop: this long to send what is left
};

struct DeliveryStats {
  uint64_t submitted = 0;
  uint64_t filtered = 0;          // the sink's filter did not want them
  uint64_t sent = 0;
  uint64_t batches = 0;
  uint64_t failed_sends = 0;      // attempts that will be retried
  uint64_t rejected = 0;          // records the destination refused for good
  uint64_t dropped_handoff = 0;   // the hand-off list was full
  uint64_t dropped_memory = 0;    // no spool and the memory queue was full
  uint64_t dropped_spool = 0;     // the spool's budget was full (or the disk refused)
  uint64_t spooled = 0;           // records written to the spool
  uint64_t memory_records = 0;    // now
  uint64_t spool_records = 0;     // now
  uint64_t spool_bytes = 0;       // now
  bool failing = false;           // the last send failed
  std::string last_error;
};

class DeliveryQueue {
 public:
  // Formats an event for the destination; nullopt when the sink does not want it.
  using Formatter = std::function<std::optional<OutRecord>(const ExportEvent&)>;

  // Throws std::runtime_error when the spool directory cannot be used.
  DeliveryQueue(std::string name, std::unique_ptr<Transport> transport, Formatter format,
                DeliveryOptions options);
  ~DeliveryQueue();  // stop()
  DeliveryQueue(const DeliveryQueue&) = delete;
  DeliveryQueue& operator=(const DeliveryQueue&) = delete;

  // Never blocks on the destination. Drops (counted) when the hand-off list is full.
  void submit(SharedEvent event);
  // Sends what it can within shutdown_flush, spools the rest, and joins.
  void stop();

  const std::string& name() const { return name_; }
  std::string describe() const { return transport_->describe(); }
  DeliveryStats stats() const;

 private:
  void run();
  void take_handoff();
  void keep(OutRecord record);
  bool send_one_batch();
  void spill_memory();
  void drop_for_memory(size_t incoming);
  void wait_until(std::chrono::steady_clock::time_point when);

  const std::string name_;
  std::unique_ptr<Transport> transport_;
  Formatter format_;
  const DeliveryOptions options_;

  // Hand-off from the pipeline (any thread) to this queue's thread.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<SharedEvent> handoff_;
  size_t handoff_bytes_ = 0;
  bool stopping_ = false;

  // The delivery thread's own.
  std::deque<OutRecord> memory_;
  size_t memory_bytes_ = 0;
  std::unique_ptr<DiskSpool> spool_;
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::steady_clock::time_point oldest_at_{};  // when the memory queue's head arrived

  mutable std::mutex stats_mutex_;
  DeliveryStats stats_;
  std::thread thread_;
};

}  // namespace llmtap::exporter
