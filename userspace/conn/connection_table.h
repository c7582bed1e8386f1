#pragma once
// The open TLS connections: one entry per (process, TLS session), from its first call to its
// close (socket closed, session freed, or process exit). Later stages keep their own
// per-connection state beside it and free it when this table says the connection ended.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "capture/tls_call.h"

namespace llmtap::conn {

struct ConnectionState {
  uint64_t id = 0;  // the kernel's stable connection id
  uint32_t pid = 0;
  uint64_t ssl = 0;
  int32_t fd = -1;
  capture::Endpoint local;
  capture::Endpoint remote;
  uint64_t first_mono_ns = 0;
  uint64_t last_mono_ns = 0;
  uint64_t calls = 0;
  uint64_t bytes_written = 0;
  uint64_t bytes_read = 0;
};

class ConnectionTable {
 public:
  explicit ConnectionTable(size_t max_connections = 65536);

  // Records a call; returns the connection's state after it.
  const ConnectionState& on_call(const capture::TlsCall& call);
  // The connection ended: returns its final state (nullopt if never seen).
  std::optional<ConnectionState> on_close(const capture::TlsClose& close);
  // Every connection of an exited process, removed.
  std::vector<ConnectionState> on_process_exit(uint32_t pid);

  size_t size() const { return connections_.size(); }
  uint64_t evicted() const { return evicted_; }

 private:
  struct Key {
    uint32_t pid;
    uint64_t ssl;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<uint64_t>()(k.ssl ^ (uint64_t{k.pid} << 48)); }
  };

  void evict_oldest();

  size_t max_connections_;
  std::unordered_map<Key, ConnectionState, KeyHash> connections_;
  uint64_t evicted_ = 0;
};

}  // namespace llmtap::conn
