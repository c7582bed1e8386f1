// A SIEM outage under steady load, with the real pieces: events at a steady rate through a
// DeliveryQueue with a disk spool and the libcurl HTTP transport to a local HTTPS collector
// (Splunk HEC shape). The collector is stopped for 60 s and started again: every event arrives,
// counted by its uid. With a disk budget too small for the outage, the drops are counted and
// the oldest low-severity events are the ones dropped.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "collector_receiver.h"
#include "export/delivery_queue.h"
#include "export/http_transport.h"
#include "self_signed_certificate.h"

namespace llmtap::exporter {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class OutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/llmtap-outage-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    testing::write_self_signed_certificate((dir_ / "c.crt").string(), (dir_ / "c.key").string());
    testing::CollectorReceiverOptions o;
    o.cert_file = (dir_ / "c.crt").string();
    o.key_file = (dir_ / "c.key").string();
    o.format = testing::CollectorFormat::kSplunkHec;
    o.authorization = "Splunk hec-token";
    receiver_ = std::make_unique<testing::CollectorReceiver>(o);
  }
  void TearDown() override {
    queue_.reset();
    receiver_.reset();
    fs::remove_all(dir_);
  }

  void start_queue(uint64_t spool_budget) {
    HttpTarget t;
    t.kind = HttpTarget::Kind::kSplunkHec;
    t.url = receiver_->url();
    t.token = "hec-token";
    t.ca_file = (dir_ / "c.crt").string();
    t.timeout = 2000ms;
    DeliveryOptions o;
    o.spool_dir = (dir_ / "spool").string();
    o.spool_budget_bytes = spool_budget;
    o.spool_segment_bytes = 64 << 10;
    o.batch_delay = 100ms;
    o.backoff_min = 200ms;
    o.backoff_max = 2000ms;
    queue_ = std::make_unique<DeliveryQueue>(
        "hec", std::make_unique<HttpTransport>(t),
        [](const ExportEvent& e) -> std::optional<OutRecord> {
          return OutRecord{e.time_ms, e.severity_id, e.json};
        },
        o);
  }

  // One event: an OCSF-shaped object with a unique metadata.uid, padded to ~1 KiB.
  static SharedEvent event(uint64_t n, uint8_t severity) {
    auto e = std::make_shared<ExportEvent>();
    nlohmann::json j = {{"class_uid", severity == 1 ? 4002 : 2006},
                        {"severity_id", severity},
                        {"time", 1'700'000'000'000ULL + n},
                        {"metadata", {{"uid", "run-" + std::to_string(n)}}},
                        {"pad", std::string(900, 'x')}};
    e->json = j.dump();
    e->severity_id = severity;
    e->time_ms = 1'700'000'000'000ULL + n;
    e->kind = severity == 1 ? EventKind::kLlmCall : EventKind::kFinding;
    return e;
  }

  // The uids the collector accepted (answered 2xx).
  std::multiset<std::string> received_uids() const {
    std::multiset<std::string> uids;
    for (const auto& r : receiver_->requests()) {
      if (r.status < 200 || r.status >= 300) continue;
      size_t start = 0;
      while (start < r.body.size()) {
        size_t end = r.body.find('\n', start);
        if (end == std::string::npos) end = r.body.size();
        const auto line = nlohmann::json::parse(r.body.substr(start, end - start), nullptr, false);
        if (line.is_object()) uids.insert(line["event"]["metadata"]["uid"].get<std::string>());
        start = end + 1;
      }
    }
    return uids;
  }

  fs::path dir_;
  std::unique_ptr<testing::CollectorReceiver> receiver_;
  std::unique_ptr<DeliveryQueue> queue_;
};

TEST_F(OutageTest, ASixtySecondOutageUnderSteadyLoadLosesNothing) {
  start_queue(uint64_t{256} << 20);
  // 100 events/s for 80 s: 10 s up, 60 s down, 10 s up again, then the backlog drains.
  constexpr int kRate = 100;
  constexpr int kSeconds = 80;
  const auto start = Clock::now();
  uint64_t n = 0;
  bool stopped = false;
  bool restarted = false;
  DeliveryStats during;
  while (Clock::now() - start < std::chrono::seconds(kSeconds)) {
    const auto elapsed = Clock::now() - start;
    if (!stopped && elapsed >= 10s) {
      receiver_->stop();
      stopped = true;
    }
    if (stopped && !restarted && elapsed >= 70s) {
      during = queue_->stats();
      receiver_->start();
      restarted = true;
    }
    for (int i = 0; i < kRate / 10; ++i, ++n) queue_->submit(event(n, n % 10 == 0 ? 4 : 1));
    std::this_thread::sleep_until(start + std::chrono::milliseconds(100 * (n / (kRate / 10))));
  }
  EXPECT_TRUE(during.failing);
  EXPECT_GT(during.spool_records, 5000u) << "the outage's events were on disk";
  ASSERT_TRUE(receiver_->wait_for_records(n, 60s)) << receiver_->records() << " of " << n;
  const auto uids = received_uids();
  std::set<std::string> distinct(uids.begin(), uids.end());
  EXPECT_EQ(distinct.size(), n) << "every event arrived";
  for (uint64_t i = 0; i < n; ++i) {
    if (!distinct.contains("run-" + std::to_string(i))) {
      ADD_FAILURE() << "missing run-" << i;
      break;
    }
  }
  queue_->stop();  // its counters settle after the last batch
  const DeliveryStats s = queue_->stats();
  EXPECT_EQ(s.dropped_handoff + s.dropped_memory + s.dropped_spool + s.rejected, 0u);
  EXPECT_EQ(s.spool_records, 0u);
  std::printf("outage: %llu events, %llu spooled, %llu failed sends, %zu duplicates\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(s.spooled),
              static_cast<unsigned long long>(s.failed_sends), uids.size() - distinct.size());
}

TEST_F(OutageTest, AnExceededDiskBudgetDropsTheOldestLowSeverityEventsAndCountsThem) {
  // Room for about 300 of the ~1 KiB events; 2,000 arrive while the collector is down.
  start_queue(300 * 1024);
  receiver_->stop();
  for (uint64_t n = 0; n < 2000; ++n) {
    queue_->submit(event(n, n % 10 == 0 ? 4 : 1));
    if (n % 200 == 0) std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(500ms);
  const DeliveryStats down = queue_->stats();
  EXPECT_GT(down.dropped_spool, 1000u);
  receiver_->start();
  const size_t expected = 2000 - down.dropped_spool;
  ASSERT_TRUE(receiver_->wait_for_records(expected, 30s)) << receiver_->records();
  std::this_thread::sleep_for(300ms);
  const auto uids = received_uids();
  std::set<std::string> distinct(uids.begin(), uids.end());
  EXPECT_EQ(distinct.size(), expected) << "what was not dropped arrived";
  // Every finding (severity 4, one in ten) survived: the drops were call records.
  for (uint64_t n = 0; n < 2000; n += 10) {
    EXPECT_TRUE(distinct.contains("run-" + std::to_string(n))) << "finding run-" << n;
  }
  EXPECT_EQ(queue_->stats().dropped_spool, down.dropped_spool);
}

}  // namespace
}  // namespace llmtap::exporter
