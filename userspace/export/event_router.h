#pragma once
// The export stage's front: one call per event from the pipeline thread, fanned out to every
// configured sink's delivery queue without waiting for any of them.

#include <memory>
#include <string>
#include <vector>

#include "export/delivery_queue.h"
#include "export/sink_config.h"

namespace llmtap::exporter {

struct RouterIdentity {
  std::string hostname;  // the node: syslog HOSTNAME, HEC host
  std::string procid;    // the agent's pid, for syslog
};

class EventRouter {
 public:
  // Builds a transport and a delivery queue for every sink but stdout (the caller writes
  // stdout itself). Throws std::runtime_error naming the sink when one cannot be set up.
  EventRouter(const ExportConfig& config, const RouterIdentity& identity);
  ~EventRouter();  // stops every queue (flush, then spool)

  void publish(const SharedEvent& event);
  void stop();
  bool empty() const { return queues_.empty(); }
  const std::vector<std::unique_ptr<DeliveryQueue>>& queues() const { return queues_; }

 private:
  std::vector<std::unique_ptr<DeliveryQueue>> queues_;
};

}  // namespace llmtap::exporter
