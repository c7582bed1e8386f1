#pragma once
// The wire of one event destination (syslog, an HTTP collector): sends a batch of records that
// are already formatted for it, synchronously, on that sink's own delivery thread. Queueing,
// spooling to disk, retrying and counting are the delivery queue's; a transport only sends.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace llmtap::exporter {

// One event as a destination receives it. Also what the disk spool keeps.
struct OutRecord {
  uint64_t time_ms = 0;      // the event's time (OCSF `time`), ms since the epoch
  uint8_t severity_id = 0;   // OCSF severity_id: 0 Unknown, 1 Informational .. 6 Fatal
  std::string payload;       // formatted for the destination (a JSON object, a syslog message)
};

struct SendResult {
  enum class Kind {
    kSent,    // every record was delivered
    kRetry,   // none is known delivered (down, timeout, 5xx, 429): send them all again later
    kReject,  // the destination refused them for good (a 4xx other than 429): dropped, counted
  };
  Kind kind = Kind::kSent;
  std::string error;  // for logs and metrics; never a credential
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual SendResult send(std::span<const OutRecord> records) = 0;
  // "syslog tcp://10.0.0.1:514", "splunk-hec https://splunk:8088": no credentials.
  virtual std::string describe() const = 0;
  // Batch limits the delivery queue keeps to.
  virtual size_t max_batch_records() const { return 500; }
  virtual size_t max_batch_bytes() const { return size_t{4} << 20; }
};

}  // namespace llmtap::exporter
