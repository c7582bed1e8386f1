// The disk spool and the delivery queue, with a scripted destination: order kept, nothing lost
// across an outage (memory -> disk -> destination), the budget's drops counted and taken from
// the oldest low-severity records first, torn writes cut at open, records left at stop sent by
// the next run, and a destination that hangs never blocking the producer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "export/delivery_queue.h"
#include "export/disk_spool.h"

namespace llmtap::exporter {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    char path[] = "/tmp/llmtap-spool-test-XXXXXX";
    EXPECT_NE(mkdtemp(path), nullptr);
    path_ = path;
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string path() const { return path_; }

 private:
  std::string path_;
};

OutRecord record(int i, uint8_t severity = 1, size_t size = 0) {
  OutRecord r;
  r.time_ms = 1'700'000'000'000ULL + static_cast<uint64_t>(i);
  r.severity_id = severity;
  r.payload = "{\"n\":" + std::to_string(i) + "}";
  if (size > r.payload.size()) r.payload.append(size - r.payload.size(), ' ');
  return r;
}

int number_of(const OutRecord& r) { return std::stoi(r.payload.substr(5)); }

std::vector<int> drain(DiskSpool& spool) {
  std::vector<int> out;
  for (;;) {
    const auto batch = spool.peek(7, 1 << 20);
    if (batch.empty()) break;
    for (const auto& r : batch) out.push_back(number_of(r));
    spool.acknowledge(batch.size());
  }
  return out;
}

TEST(DiskSpool, KeepsOrderAcrossSeverityClassesAndSegments) {
  TempDir dir;
  DiskSpool spool(dir.path(), 1 << 20, 256);  // small segments: many of them
  std::vector<int> expected;
  for (int i = 0; i < 100; ++i) {
    spool.append(record(i, i % 3 == 0 ? 4 : 1));
    expected.push_back(i);
  }
  EXPECT_EQ(spool.records(), 100u);
  // Classes interleave by segment, not by record: the order is segment-by-segment, and every
  // record comes exactly once.
  const std::vector<int> got = drain(spool);
  EXPECT_EQ(std::multiset<int>(got.begin(), got.end()),
            std::multiset<int>(expected.begin(), expected.end()));
  EXPECT_TRUE(spool.empty());
  EXPECT_EQ(spool.bytes(), 0u);
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 0u) << "read segments are deleted";
}

TEST(DiskSpool, OneClassKeepsExactOrder) {
  TempDir dir;
  DiskSpool spool(dir.path(), 1 << 20, 300);
  for (int i = 0; i < 50; ++i) spool.append(record(i));
  std::vector<int> expected(50);
  for (int i = 0; i < 50; ++i) expected[static_cast<size_t>(i)] = i;
  EXPECT_EQ(drain(spool), expected);
}

TEST(DiskSpool, PeekWithoutAcknowledgeGivesTheSameAgain) {
  TempDir dir;
  DiskSpool spool(dir.path(), 1 << 20);
  for (int i = 0; i < 5; ++i) spool.append(record(i));
  const auto a = spool.peek(3, 1 << 20);
  const auto b = spool.peek(3, 1 << 20);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(a[2].payload, b[2].payload);
  spool.acknowledge(2);
  EXPECT_EQ(number_of(spool.peek(1, 1 << 20)[0]), 2);
  EXPECT_EQ(spool.records(), 3u);
}

TEST(DiskSpool, SurvivesARestartAndCutsATornTail) {
  TempDir dir;
  {
    DiskSpool spool(dir.path(), 1 << 20);
    for (int i = 0; i < 10; ++i) spool.append(record(i, 5));
    spool.acknowledge(0);
  }
  // A crash in the middle of an append: half a record at the end of the segment.
  fs::path segment;
  for (const auto& e : fs::directory_iterator(dir.path())) segment = e.path();
  std::ofstream(segment, std::ios::app | std::ios::binary) << std::string("\x20\x00\x00\x00xx", 6);
  DiskSpool reopened(dir.path(), 1 << 20);
  EXPECT_EQ(reopened.stats().corrupt, 1u);
  EXPECT_EQ(reopened.records(), 10u);
  const std::vector<int> got = drain(reopened);
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(got.front(), 0);
  EXPECT_EQ(got.back(), 9);
  // A flipped byte inside a record: that record and the rest of its segment are cut.
  {
    DiskSpool spool(dir.path(), 1 << 20);
    for (int i = 0; i < 4; ++i) spool.append(record(i));
  }
  for (const auto& e : fs::directory_iterator(dir.path())) segment = e.path();
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(17 + 17 + 2);  // inside the second record's payload
    f.put('X');
  }
  DiskSpool damaged(dir.path(), 1 << 20);
  EXPECT_EQ(damaged.stats().corrupt, 1u);
  EXPECT_EQ(drain(damaged), std::vector<int>{0});
}

TEST(DiskSpool, AFullBudgetDropsTheOldestLowSeverityFirstAndCountsIt) {
  TempDir dir;
  // Budget for ~20 records of 100 bytes; segments of ~5 records.
  DiskSpool spool(dir.path(), 20 * 117, 5 * 117);
  for (int i = 0; i < 10; ++i) spool.append(record(i, 1, 100));         // low
  for (int i = 100; i < 110; ++i) spool.append(record(i, 4, 100));      // high
  EXPECT_EQ(spool.stats().dropped_low + spool.stats().dropped_high, 0u);
  for (int i = 200; i < 210; ++i) spool.append(record(i, 4, 100));      // more high: over budget
  EXPECT_EQ(spool.stats().dropped_high, 0u) << "low records go first";
  EXPECT_EQ(spool.stats().dropped_low, 10u);
  const std::vector<int> got = drain(spool);
  EXPECT_EQ(got.size(), 20u);
  for (int n : got) EXPECT_GE(n, 100) << "no low record is left";
  // Only high ones left: the oldest high go.
  for (int i = 300; i < 330; ++i) spool.append(record(i, 5, 100));
  EXPECT_GT(spool.stats().dropped_high, 0u);
  EXPECT_LE(spool.bytes(), 20u * 117);
  EXPECT_EQ(spool.stats().appended - spool.stats().acknowledged - spool.stats().dropped_low -
                spool.stats().dropped_high,
            spool.records());
}

TEST(DiskSpool, ARecordLargerThanTheBudgetIsDroppedAndCounted) {
  TempDir dir;
  DiskSpool spool(dir.path(), 1000);
  spool.append(record(1, 4, 2000));
  EXPECT_EQ(spool.stats().dropped_high, 1u);
  EXPECT_TRUE(spool.empty());
}

TEST(DiskSpool, AnUnusableDirectoryIsAClearError) {
  EXPECT_THROW(DiskSpool("/proc/llmtap-no-such-dir", 1000), std::runtime_error);
}

// A destination whose answers the test scripts; records everything delivered.
class ScriptedTransport : public Transport {
 public:
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<int> delivered;
    size_t batches = 0;
    size_t attempts = 0;
    bool down = false;
    bool reject = false;
    std::chrono::milliseconds hang{0};
  };
  explicit ScriptedTransport(std::shared_ptr<State> s, size_t max_batch = 50)
      : s_(std::move(s)), max_batch_(max_batch) {}
  SendResult send(std::span<const OutRecord> records) override {
    std::chrono::milliseconds hang;
    {
      std::lock_guard lock(s_->mutex);
      ++s_->attempts;
      hang = s_->hang;
    }
    if (hang.count() > 0) std::this_thread::sleep_for(hang);
    std::lock_guard lock(s_->mutex);
    if (s_->down) return {SendResult::Kind::kRetry, "connection refused"};
    if (s_->reject) return {SendResult::Kind::kReject, "HTTP 400: bad"};
    for (const auto& r : records) s_->delivered.push_back(number_of(r));
    ++s_->batches;
    s_->changed.notify_all();
    return {};
  }
  std::string describe() const override { return "scripted"; }
  size_t max_batch_records() const override { return max_batch_; }

 private:
  std::shared_ptr<State> s_;
  size_t max_batch_;
};

SharedEvent event(int i, uint8_t severity = 1) {
  auto e = std::make_shared<ExportEvent>();
  e->json = "{\"n\":" + std::to_string(i) + "}";
  e->severity_id = severity;
  e->time_ms = 1'700'000'000'000ULL + static_cast<uint64_t>(i);
  return e;
}

DeliveryQueue::Formatter identity_format() {
  return [](const ExportEvent& e) -> std::optional<OutRecord> {
    return OutRecord{e.time_ms, e.severity_id, e.json};
  };
}

DeliveryOptions fast_options(const std::string& spool_dir = "") {
  DeliveryOptions o;
  o.spool_dir = spool_dir;
  o.batch_delay = 20ms;
  o.backoff_min = 20ms;
  o.backoff_max = 100ms;
  o.shutdown_flush = 2s;
  return o;
}

bool wait_delivered(ScriptedTransport::State& s, size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(s.mutex);
  return s.changed.wait_for(lock, timeout, [&] { return s.delivered.size() >= count; });
}

std::vector<int> range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST(DeliveryQueue, DeliversEverythingInOrderInBatches) {
  auto s = std::make_shared<ScriptedTransport::State>();
  DeliveryQueue q("t", std::make_unique<ScriptedTransport>(s), identity_format(), fast_options());
  for (int i = 0; i < 1000; ++i) q.submit(event(i));
  ASSERT_TRUE(wait_delivered(*s, 1000, 10s));
  q.stop();  // the queue counts a batch after the destination took it
  std::lock_guard lock(s->mutex);
  EXPECT_EQ(s->delivered, range(0, 1000));
  EXPECT_LE(s->batches, 60u) << "batched, not one request per event";
  EXPECT_EQ(q.stats().sent, 1000u);
}

TEST(DeliveryQueue, AnOutageLosesNothingAndKeepsTheOrder) {
  TempDir dir;
  auto s = std::make_shared<ScriptedTransport::State>();
  DeliveryQueue q("t", std::make_unique<ScriptedTransport>(s), identity_format(),
                  fast_options(dir.path() + "/spool"));
  for (int i = 0; i < 100; ++i) q.submit(event(i));
  ASSERT_TRUE(wait_delivered(*s, 100, 10s));
  {
    std::lock_guard lock(s->mutex);
    s->down = true;
  }
  for (int i = 100; i < 3000; ++i) {
    q.submit(event(i));
    if (i % 500 == 0) std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(300ms);
  const DeliveryStats during = q.stats();
  EXPECT_TRUE(during.failing);
  EXPECT_GT(during.failed_sends, 0u);
  EXPECT_GT(during.spool_records, 0u) << "kept on disk while the destination is down";
  EXPECT_EQ(during.last_error, "connection refused");
  {
    std::lock_guard lock(s->mutex);
    s->down = false;
  }
  ASSERT_TRUE(wait_delivered(*s, 3000, 20s));
  q.stop();
  std::lock_guard lock(s->mutex);
  // At-least-once: a batch may come twice; nothing is missing and the first sight of each is
  // in order.
  std::vector<int> first_seen;
  std::set<int> seen;
  for (int n : s->delivered) {
    if (seen.insert(n).second) first_seen.push_back(n);
  }
  EXPECT_EQ(first_seen, range(0, 3000));
  const DeliveryStats after = q.stats();
  EXPECT_FALSE(after.failing);
  EXPECT_EQ(after.spool_records, 0u);
  EXPECT_EQ(after.dropped_spool + after.dropped_memory + after.dropped_handoff, 0u);
}

TEST(DeliveryQueue, WithoutASpoolAFullMemoryQueueDropsLowSeverityFirst) {
  auto s = std::make_shared<ScriptedTransport::State>();
  s->down = true;
  DeliveryOptions o = fast_options();
  o.memory_records = 100;
  DeliveryQueue q("t", std::make_unique<ScriptedTransport>(s), identity_format(), o);
  for (int i = 0; i < 50; ++i) q.submit(event(i, 4));      // findings
  for (int i = 50; i < 250; ++i) q.submit(event(i, 1));    // calls
  std::this_thread::sleep_for(300ms);
  {
    std::lock_guard lock(s->mutex);
    s->down = false;
  }
  ASSERT_TRUE(wait_delivered(*s, 100, 10s));
  std::this_thread::sleep_for(200ms);
  std::lock_guard lock(s->mutex);
  std::set<int> got(s->delivered.begin(), s->delivered.end());
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(got.contains(i)) << "finding " << i << " kept";
  EXPECT_EQ(got.size(), 100u);
  EXPECT_EQ(q.stats().dropped_memory, 150u);
}

TEST(DeliveryQueue, RefusedRecordsAreCountedNotRetried) {
  auto s = std::make_shared<ScriptedTransport::State>();
  s->reject = true;
  DeliveryQueue q("t", std::make_unique<ScriptedTransport>(s), identity_format(), fast_options());
  for (int i = 0; i < 10; ++i) q.submit(event(i));
  for (int i = 0; i < 100 && q.stats().rejected < 10; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(q.stats().rejected, 10u);
  std::lock_guard lock(s->mutex);
  EXPECT_LE(s->attempts, 2u);
}

TEST(DeliveryQueue, AHangingDestinationNeverBlocksTheProducer) {
  auto s = std::make_shared<ScriptedTransport::State>();
  s->hang = 1500ms;
  DeliveryOptions o = fast_options();
  o.handoff_bytes = 1 << 20;
  o.shutdown_flush = 0ms;
  auto q = std::make_unique<DeliveryQueue>("t", std::make_unique<ScriptedTransport>(s),
                                           identity_format(), o);
  q->submit(event(0));
  std::this_thread::sleep_for(100ms);  // the thread is now inside send()
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1; i < 200000; ++i) q->submit(event(i));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_GT(q->stats().dropped_handoff, 0u) << "beyond the hand-off bound: dropped, counted";
  q.reset();
}

TEST(DeliveryQueue, WhatIsLeftAtStopIsSpooledAndSentByTheNextRun) {
  TempDir dir;
  auto s = std::make_shared<ScriptedTransport::State>();
  s->down = true;
  {
    DeliveryQueue q("t", std::make_unique<ScriptedTransport>(s), identity_format(),
                    fast_options(dir.path() + "/spool"));
    for (int i = 0; i < 500; ++i) q.submit(event(i, 3));
    std::this_thread::sleep_for(200ms);
  }
  {
    std::lock_guard lock(s->mutex);
    EXPECT_TRUE(s->delivered.empty());
    s->down = false;
  }
  DeliveryQueue next("t", std::make_unique<ScriptedTransport>(s), identity_format(),
                     fast_options(dir.path() + "/spool"));
  ASSERT_TRUE(wait_delivered(*s, 500, 10s));
  std::lock_guard lock(s->mutex);
  EXPECT_EQ(std::set<int>(s->delivered.begin(), s->delivered.end()).size(), 500u);
}

TEST(DeliveryQueue, TheFormatterFiltersAndIsCounted) {
  auto s = std::make_shared<ScriptedTransport::State>();
  DeliveryQueue q("t", std::make_unique<ScriptedTransport>(s),
                  [](const ExportEvent& e) -> std::optional<OutRecord> {
                    if (e.severity_id < 3) return std::nullopt;
                    return OutRecord{e.time_ms, e.severity_id, e.json};
                  },
                  fast_options());
  for (int i = 0; i < 20; ++i) q.submit(event(i, i % 2 == 0 ? 1 : 4));
  ASSERT_TRUE(wait_delivered(*s, 10, 10s));
  q.stop();
  EXPECT_EQ(q.stats().filtered, 10u);
  EXPECT_EQ(q.stats().sent, 10u);
}

}  // namespace
}  // namespace llmtap::exporter
