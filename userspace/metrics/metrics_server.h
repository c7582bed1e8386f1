#pragma once
// The agent's HTTP endpoint for Prometheus and for Kubernetes probes: GET /metrics,
// /healthz and /readyz, served by libmicrohttpd on its own thread so that neither a scrape nor
// a slow client ever waits on (or holds up) the pipeline.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

struct MHD_Daemon;

namespace llmtap::metrics {

class MetricRegistry;

// Whether the agent is ready, and if not, why (the /readyz 503 body).
using ReadinessCheck = std::function<std::pair<bool, std::string>()>;

struct MetricsServerOptions {
  // HOST:PORT with HOST empty (every interface, IPv6 and IPv4), an IPv4 literal or a
  // bracketed IPv6 literal: ":9464", "127.0.0.1:9464", "[::1]:9464". Port 0 picks a free one.
  std::string address = ":9464";
  // Runs on the server thread for each /readyz: it must be cheap and thread-safe. Empty: ready.
  ReadinessCheck readiness;
  // Bounds so that clients cannot exhaust the agent: beyond the limit new connections are
  // closed, and a connection idle this long is dropped.
  unsigned max_connections = 16;
  std::chrono::seconds connection_timeout{10};
};

class MetricsServer {
 public:
  static constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

  // The registry (and the readiness check's captures) must outlive the server.
  MetricsServer(const MetricRegistry& registry, MetricsServerOptions options);
  ~MetricsServer();  // stops
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Listens and returns; requests are served on libmicrohttpd's thread. Throws
  // std::runtime_error naming the address when it is malformed, in use or cannot be bound.
  void start();
  // Closes the listener and every connection and joins the server thread; idempotent.
  void stop();
  uint16_t port() const { return port_; }  // the bound port, once started

 private:
  struct Routes;  // libmicrohttpd's request callback

  const MetricRegistry& registry_;
  const MetricsServerOptions options_;
  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
};

}  // namespace llmtap::metrics
