#pragma once
// A keep-alive HTTPS client over the system libssl (so llmtap's probes see it): POSTs a
// fixed body N times on one connection and reads each response whole.

#include <cstdint>
#include <string>

namespace llmtap::bench {

struct ClientResult {
  uint64_t requests = 0;
  double seconds = 0;
};

ClientResult run_keepalive_client(const std::string& host, uint16_t port, uint64_t requests,
                                  size_t body_bytes, size_t response_bytes);

}  // namespace llmtap::bench
