#include "export/delivery_queue.h"

#include <spdlog/spdlog.h>

#include <random>
#include <vector>

namespace llmtap::exporter {
namespace {

using Clock = std::chrono::steady_clock;

bool low_severity(const OutRecord& r) { return r.severity_id < 3; }

}  // namespace

DeliveryQueue::DeliveryQueue(std::string name, std::unique_ptr<Transport> transport,
                             Formatter format, DeliveryOptions options)
    : name_(std::move(name)),
      transport_(std::move(transport)),
      format_(std::move(format)),
      options_(std::move(options)) {
  if (!options_.spool_dir.empty()) {
    spool_ = std::make_unique<DiskSpool>(options_.spool_dir, options_.spool_budget_bytes,
                                         options_.spool_segment_bytes);
    if (!spool_->empty()) {
      spdlog::info("sink {}: {} records spooled by an earlier run are sent first", name_,
                   spool_->records());
    }
  }
  thread_ = std::thread([this] { run(); });
}

DeliveryQueue::~DeliveryQueue() { stop(); }

void DeliveryQueue::submit(SharedEvent event) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && handoff_bytes_ + event->json.size() <= options_.handoff_bytes) {
      handoff_bytes_ += event->json.size();
      handoff_.push_back(std::move(event));
      wake_.notify_one();
      return;
    }
  }
  std::lock_guard lock(stats_mutex_);
  ++stats_.submitted;
  ++stats_.dropped_handoff;
}

void DeliveryQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

DeliveryStats DeliveryQueue::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

void DeliveryQueue::take_handoff() {
  std::deque<SharedEvent> taken;
  {
    std::lock_guard lock(mutex_);
    taken.swap(handoff_);
    handoff_bytes_ = 0;
  }
  for (const SharedEvent& e : taken) {
    std::optional<OutRecord> r = format_(*e);
    {
      std::lock_guard lock(stats_mutex_);
      ++stats_.submitted;
      if (!r) ++stats_.filtered;
    }
    if (r) keep(std::move(*r));
  }
}

// Into memory while the destination keeps up; into the spool (behind what is already there, to
// keep the order) while it fails or the memory queue is full.
void DeliveryQueue::keep(OutRecord record) {
  const bool failing = Clock::now() < retry_at_;
  if (spool_ && (failing || !spool_->empty() || memory_.size() >= options_.memory_records ||
                 memory_bytes_ + record.payload.size() > options_.memory_bytes)) {
    spill_memory();
    const uint64_t dropped_before = spool_->stats().dropped_low + spool_->stats().dropped_high +
                                    spool_->stats().write_errors;
    spool_->append(record);
    const DiskSpoolStats& s = spool_->stats();
    std::lock_guard lock(stats_mutex_);
    ++stats_.spooled;
    stats_.dropped_spool += s.dropped_low + s.dropped_high + s.write_errors - dropped_before;
    return;
  }
  if (!spool_) drop_for_memory(record.payload.size());
  if (memory_.empty()) oldest_at_ = Clock::now();
  memory_bytes_ += record.payload.size();
  memory_.push_back(std::move(record));
}

// No spool: the memory queue is all there is. When it is full the oldest low-severity record
// goes (findings outlive call records), else the oldest.
void DeliveryQueue::drop_for_memory(size_t incoming) {
  while (!memory_.empty() && (memory_.size() >= options_.memory_records ||
                              memory_bytes_ + incoming > options_.memory_bytes)) {
    auto victim = std::find_if(memory_.begin(), memory_.end(), low_severity);
    if (victim == memory_.end()) victim = memory_.begin();
    memory_bytes_ -= victim->payload.size();
    memory_.erase(victim);
    std::lock_guard lock(stats_mutex_);
    ++stats_.dropped_memory;
  }
}

void DeliveryQueue::spill_memory() {
  if (!spool_ || memory_.empty()) return;
  const DiskSpoolStats before = spool_->stats();
  const size_t count = memory_.size();
  for (const OutRecord& r : memory_) spool_->append(r);
  memory_.clear();
  memory_bytes_ = 0;
  const DiskSpoolStats& after = spool_->stats();
  std::lock_guard lock(stats_mutex_);
  stats_.spooled += count;
  stats_.dropped_spool += (after.dropped_low - before.dropped_low) +
                          (after.dropped_high - before.dropped_high) +
                          (after.write_errors - before.write_errors);
}

// Sends one batch, spool first (it holds the older records). True when it was delivered (or
// refused for good): the caller may send the next one at once.
bool DeliveryQueue::send_one_batch() {
  const size_t max_records = transport_->max_batch_records();
  const size_t max_bytes = transport_->max_batch_bytes();
  std::vector<OutRecord> batch;
  const bool from_spool = spool_ && !spool_->empty();
  if (from_spool) {
    batch = spool_->peek(max_records, max_bytes);
  } else {
    size_t bytes = 0;
    for (const OutRecord& r : memory_) {
      if (batch.size() >= max_records || (!batch.empty() && bytes + r.payload.size() > max_bytes)) {
        break;
      }
      bytes += r.payload.size();
      batch.push_back(r);
    }
  }
  if (batch.empty()) return false;
  const SendResult result = transport_->send(batch);
  if (result.kind == SendResult::Kind::kRetry) {
    backoff_ = backoff_.count() == 0 ? options_.backoff_min
                                     : std::min(backoff_ * 2, options_.backoff_max);
    static thread_local std::mt19937 random{std::random_device{}()};
    std::uniform_int_distribution<int64_t> jitter(backoff_.count() / 2, backoff_.count());
    retry_at_ = Clock::now() + std::chrono::milliseconds(jitter(random));
    bool first = false;
    {
      std::lock_guard lock(stats_mutex_);
      ++stats_.failed_sends;
      first = !stats_.failing;
      stats_.failing = true;
      stats_.last_error = result.error;
    }
    if (first) {
      spdlog::warn("sink {} ({}): {}; keeping events {} and retrying", name_,
                   transport_->describe(), result.error, spool_ ? "on disk" : "in memory");
    }
    spill_memory();  // from now on in order on disk
    return false;
  }
  const bool recovered = backoff_.count() != 0;
  backoff_ = std::chrono::milliseconds(0);
  retry_at_ = {};
  if (from_spool) {
    spool_->acknowledge(batch.size());
  } else {
    for (size_t i = 0; i < batch.size(); ++i) {
      memory_bytes_ -= memory_.front().payload.size();
      memory_.pop_front();
    }
    if (!memory_.empty()) oldest_at_ = Clock::now();
  }
  {
    std::lock_guard lock(stats_mutex_);
    if (result.kind == SendResult::Kind::kSent) {
      stats_.sent += batch.size();
      ++stats_.batches;
    } else {
      stats_.rejected += batch.size();
      stats_.last_error = result.error;
    }
    stats_.failing = false;
  }
  if (result.kind == SendResult::Kind::kReject) {
    spdlog::warn("sink {} ({}) refused {} events: {}", name_, transport_->describe(),
                 batch.size(), result.error);
  } else if (recovered) {
    spdlog::info("sink {} ({}) delivers again", name_, transport_->describe());
  }
  return true;
}

void DeliveryQueue::wait_until(Clock::time_point when) {
  std::unique_lock lock(mutex_);
  wake_.wait_until(lock, when, [this] { return stopping_; });
}

void DeliveryQueue::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      const bool idle = memory_.empty() && (!spool_ || spool_->empty());
      if (idle) {
        wake_.wait(lock, [this] { return stopping_ || !handoff_.empty(); });
      }
      if (stopping_) break;
    }
    take_handoff();
    const auto now = Clock::now();
    if (now < retry_at_) {
      // Failing: wait for the retry time, taking (and spooling) new events meanwhile.
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, std::min(retry_at_, now + std::chrono::milliseconds(200)),
                       [this] { return stopping_; });
      continue;
    }
    const bool spool_ready = spool_ && !spool_->empty();
    const bool batch_full = memory_.size() >= transport_->max_batch_records();
    if (!spool_ready && !batch_full && !memory_.empty() &&
        now - oldest_at_ < options_.batch_delay) {
      wait_until(oldest_at_ + options_.batch_delay);  // let the batch fill
      continue;
    }
    send_one_batch();
    {
      std::lock_guard lock(stats_mutex_);
      stats_.memory_records = memory_.size();
      stats_.spool_records = spool_ ? spool_->records() : 0;
      stats_.spool_bytes = spool_ ? spool_->bytes() : 0;
    }
  }
  // Stopping: what is left, sent within the flush deadline (unless the destination is down),
  // the rest spooled for the next run.
  take_handoff();
  const auto deadline = Clock::now() + options_.shutdown_flush;
  while (Clock::now() < deadline && Clock::now() >= retry_at_ &&
         (!memory_.empty() || (spool_ && !spool_->empty()))) {
    if (!send_one_batch()) break;
  }
  spill_memory();
  std::lock_guard lock(stats_mutex_);
  stats_.dropped_memory += memory_.size();  // no spool: lost, counted
  stats_.memory_records = 0;
  stats_.spool_records = spool_ ? spool_->records() : 0;
  stats_.spool_bytes = spool_ ? spool_->bytes() : 0;
}

}  // namespace llmtap::exporter
