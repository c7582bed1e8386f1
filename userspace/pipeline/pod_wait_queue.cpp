#include "pipeline/pod_wait_queue.h"

#include <utility>

namespace llmtap::pipeline {

PodWaitQueue::PodWaitQueue(enrich::WorkloadResolver& workloads, std::function<bool()> api_live,
                           std::chrono::milliseconds wait, Emit emit, size_t max_records,
                           size_t max_bytes)
    : workloads_(workloads),
      api_live_(std::move(api_live)),
      wait_ns_(static_cast<uint64_t>(std::chrono::nanoseconds(wait).count())),
      emit_(std::move(emit)),
      max_records_(max_records),
      max_bytes_(max_bytes) {}

void PodWaitQueue::submit(const llm::LlmCall& call, const llm::CallBodies& bodies,
                          uint64_t now_mono_ns) {
  const auto& w = call.process.workload;
  if (wait_ns_ == 0 || w == nullptr || !workloads_.pod_pending(*w) || !api_live_()) {
    emit_(call, bodies);
    return;
  }
  const size_t bytes = bodies.request.size() + bodies.response.size();
  if (waiting_.size() >= max_records_ || bytes_ + bytes > max_bytes_) {
    ++stats_.overflow;
    emit_(call, bodies);
    return;
  }
  ++stats_.waited;
  bytes_ += bytes;
  waiting_.push_back(Waiting{call, std::string(bodies.request), std::string(bodies.response),
                             now_mono_ns + wait_ns_});
}

void PodWaitQueue::release(Waiting& w) {
  bytes_ -= w.request.size() + w.response.size();
  emit_(w.call, llm::CallBodies{w.request, w.response});
}

void PodWaitQueue::poll(uint64_t now_mono_ns) {
  // In arrival order, so that records of one connection keep theirs.
  while (!waiting_.empty()) {
    Waiting& front = waiting_.front();
    front.call.process.workload = workloads_.refreshed(front.call.process.workload);
    const bool known = front.call.process.workload->pod_known();
    if (!known && now_mono_ns < front.deadline_ns) break;
    ++(known ? stats_.resolved : stats_.timed_out);
    Waiting w = std::move(front);
    waiting_.pop_front();
    release(w);
  }
}

void PodWaitQueue::flush() {
  while (!waiting_.empty()) {
    Waiting w = std::move(waiting_.front());
    waiting_.pop_front();
    w.call.process.workload = workloads_.refreshed(w.call.process.workload);
    ++(w.call.process.workload->pod_known() ? stats_.resolved : stats_.timed_out);
    release(w);
  }
}

}  // namespace llmtap::pipeline
