#pragma once
// Joins the ring-buffer records of one call (DATA pieces, then the CALL record) into a
// TlsCall, and decodes CLOSE records. Pure: fed bytes, emits calls and closes; every
// malformed or orphaned record is counted.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>

#include "capture/tls_call.h"

namespace llmtap::capture {

struct AssemblerStats {
  uint64_t calls = 0;             // TlsCalls emitted
  uint64_t closes = 0;            // TlsCloses emitted
  uint64_t malformed_records = 0;  // too short, unknown kind, inconsistent lengths
  uint64_t orphaned_records = 0;   // DATA records whose CALL record never came (lost in BPF)
  uint64_t orphaned_bytes = 0;
};

class CallAssembler {
 public:
  using Handler = std::function<void(const TlsCall&)>;
  using CloseHandler = std::function<void(const TlsClose&)>;

  explicit CallAssembler(Handler handler, CloseHandler on_close = nullptr);

  // One ring-buffer record, as libbpf hands it over.
  void feed(std::span<const std::byte> record);

  // Drops every half-assembled call (at shutdown): counted as orphaned.
  void flush();

  const AssemblerStats& stats() const { return stats_; }
  size_t pending_calls() const { return partials_.size(); }

 private:
  struct Partial {
    uint64_t call_id = 0;
    uint64_t records = 0;
    std::string bytes;
  };

  void on_data(std::span<const std::byte> record);
  void on_call(std::span<const std::byte> record);
  void on_close(std::span<const std::byte> record);
  void drop_partial(std::unordered_map<uint32_t, Partial>::iterator it);

  Handler handler_;
  CloseHandler close_handler_;
  std::unordered_map<uint32_t, Partial> partials_;  // by tid: a thread runs one call at a time
  AssemblerStats stats_;
};

}  // namespace llmtap::capture
