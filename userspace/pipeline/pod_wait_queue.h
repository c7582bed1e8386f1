#pragma once
// Records about a brand-new pod's container can be finished before the Kubernetes watch has
// told of the pod. Such a record waits here a short while (bounded in count and bytes) and
// leaves as soon as its pod is known, or when its wait is over, without it. Nothing else
// waits: records about known pods, host processes, or with no API server answering pass
// straight through.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "enrich/workload_resolver.h"
#include "llm/llm_call.h"

namespace llmtap::pipeline {

struct PodWaitStats {
  uint64_t waited = 0;     // records that waited
  uint64_t resolved = 0;   // ... and left with their pod
  uint64_t timed_out = 0;  // ... and left without it
  uint64_t overflow = 0;   // would have waited, but the queue was full
};

class PodWaitQueue {
 public:
  using Emit = std::function<void(const llm::LlmCall&, const llm::CallBodies&)>;
  // `api_live`: the pod directory is complete and the API server answers (waiting is useless
  // otherwise).
  PodWaitQueue(enrich::WorkloadResolver& workloads, std::function<bool()> api_live,
               std::chrono::milliseconds wait, Emit emit, size_t max_records = 256,
               size_t max_bytes = size_t{16} << 20);

  void submit(const llm::LlmCall& call, const llm::CallBodies& bodies, uint64_t now_mono_ns);
  // Lets go of what can go: pods now known, waits over.
  void poll(uint64_t now_mono_ns);
  void flush();  // everything, now (shutdown)

  size_t size() const { return waiting_.size(); }
  const PodWaitStats& stats() const { return stats_; }

 private:
  struct Waiting {
    llm::LlmCall call;
    std::string request;
    std::string response;
    uint64_t deadline_ns = 0;
  };
  void release(Waiting& w);

  enrich::WorkloadResolver& workloads_;
  std::function<bool()> api_live_;
  uint64_t wait_ns_;
  Emit emit_;
  size_t max_records_;
  size_t max_bytes_;
  size_t bytes_ = 0;
  std::deque<Waiting> waiting_;
  PodWaitStats stats_;
};

}  // namespace llmtap::pipeline
