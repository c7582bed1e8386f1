#include "conn/connection_table.h"

#include <algorithm>

namespace llmtap::conn {

ConnectionTable::ConnectionTable(size_t max_connections)
    : max_connections_(std::max<size_t>(max_connections, 1)) {}

const ConnectionState& ConnectionTable::on_call(const capture::TlsCall& call) {
  const Key key{call.pid, call.ssl};
  ConnectionState fresh;
  fresh.id = call.conn_id;
  fresh.pid = call.pid;
  fresh.ssl = call.ssl;
  fresh.first_mono_ns = call.mono_ns;
  auto it = connections_.find(key);
  if (it == connections_.end()) {
    if (connections_.size() >= max_connections_) evict_oldest();
    it = connections_.emplace(key, fresh).first;
  } else if (it->second.id != call.conn_id) {
    it->second = fresh;  // the SSL* was reused by a new connection whose close we missed
  }
  ConnectionState& state = it->second;
  if (call.fd >= 0) {
    state.fd = call.fd;
    state.local = call.local;
    state.remote = call.remote;
  }
  state.last_mono_ns = call.mono_ns;
  ++state.calls;
  (call.direction == capture::Direction::kWrite ? state.bytes_written : state.bytes_read) +=
      call.call_len;
  return state;
}

std::optional<ConnectionState> ConnectionTable::on_close(const capture::TlsClose& close) {
  auto node = connections_.extract(Key{close.pid, close.ssl});
  if (node.empty()) return std::nullopt;
  return std::move(node.mapped());
}

std::vector<ConnectionState> ConnectionTable::on_process_exit(uint32_t pid) {
  std::vector<ConnectionState> ended;
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->first.pid == pid) {
      ended.push_back(std::move(it->second));
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
  return ended;
}

void ConnectionTable::evict_oldest() {
  auto oldest = std::min_element(connections_.begin(), connections_.end(),
                                 [](const auto& a, const auto& b) {
                                   return a.second.last_mono_ns < b.second.last_mono_ns;
                                 });
  if (oldest == connections_.end()) return;
  connections_.erase(oldest);
  ++evicted_;
}

}  // namespace llmtap::conn
