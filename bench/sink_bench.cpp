// Event delivery: events/s each sink type sustains on this machine (a local file, a local
// HTTPS collector in the Splunk HEC and Elastic shapes, syslog over TCP to a local reader),
// and how fast a disk spool drains once its destination is back. ~1 KiB OCSF-shaped events.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "collector_receiver.h"
#include "export/delivery_queue.h"
#include "export/file_transport.h"
#include "export/http_transport.h"
#include "export/syslog_transport.h"
#include "self_signed_certificate.h"

namespace {

namespace fs = std::filesystem;
using namespace llmtap::exporter;
using Clock = std::chrono::steady_clock;

SharedEvent event(uint64_t n) {
  auto e = std::make_shared<ExportEvent>();
  e->json = nlohmann::json{{"class_uid", 4002},
                           {"time", 1'700'000'000'000ULL + n},
                           {"metadata", {{"uid", "bench-" + std::to_string(n)}}},
                           {"pad", std::string(950, 'x')}}
                .dump();
  e->time_ms = 1'700'000'000'000ULL + n;
  return e;
}

DeliveryQueue::Formatter as_is() {
  return [](const ExportEvent& e) -> std::optional<OutRecord> {
    return OutRecord{e.time_ms, e.severity_id, e.json};
  };
}

// Submits `count` events, keeping at most a few thousand in flight (the memory queue's bound is
// 10,000: beyond it, without a spool, events would be dropped); returns events/s delivered.
double run(const char* name, std::unique_ptr<Transport> t, size_t count) {
  DeliveryOptions o;
  o.batch_delay = std::chrono::milliseconds(20);
  DeliveryQueue q(name, std::move(t), as_is(), o);
  const auto start = Clock::now();
  for (size_t n = 0; n < count; ++n) {
    q.submit(event(n));
    if (n % 1000 == 999) {
      while (q.stats().sent + 4000 < n) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  q.stop();  // sends what is left
  const DeliveryStats s = q.stats();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double rate = static_cast<double>(s.sent) / seconds;
  std::printf("%-28s %8llu events in %6.2f s: %9.0f events/s (%.1f MB/s), %llu dropped\n", name,
              static_cast<unsigned long long>(s.sent), seconds, rate, rate * 1024 / 1e6,
              static_cast<unsigned long long>(s.dropped_memory + s.dropped_handoff));
  return rate;
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  char dir_template[] = "/tmp/llmtap-sink-bench-XXXXXX";
  const fs::path dir = mkdtemp(dir_template);
  llmtap::testing::write_self_signed_certificate((dir / "c.crt").string(),
                                                 (dir / "c.key").string());
  constexpr size_t kEvents = 100000;

  {
    FileTarget t;
    t.path = (dir / "events.jsonl").string();
    t.fsync = FileTarget::Fsync::kInterval;
    DeliveryQueue* none = nullptr;
    (void)none;
    auto transport = std::make_unique<FileTransport>(t);
    run("file (fsync 1/s)", std::move(transport), kEvents);
  }

  for (auto format : {llmtap::testing::CollectorFormat::kSplunkHec,
                      llmtap::testing::CollectorFormat::kElasticBulk}) {
    llmtap::testing::CollectorReceiverOptions ro;
    ro.cert_file = (dir / "c.crt").string();
    ro.key_file = (dir / "c.key").string();
    ro.format = format;
    llmtap::testing::CollectorReceiver receiver(ro);
    HttpTarget t;
    t.kind = format == llmtap::testing::CollectorFormat::kSplunkHec
                 ? HttpTarget::Kind::kSplunkHec
                 : HttpTarget::Kind::kElasticBulk;
    t.url = receiver.url();
    t.token = "bench";
    t.ca_file = ro.cert_file;
    run(t.kind == HttpTarget::Kind::kSplunkHec ? "splunk-hec (https, gzip)"
                                                : "elastic _bulk (https, gzip)",
        std::make_unique<HttpTransport>(t), kEvents);
  }

  {
    // A local TCP reader that counts octet-counted frames' bytes.
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(listener, 4);
    socklen_t len = sizeof a;
    getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
    std::atomic<size_t> bytes{0};
    std::thread reader([&] {
      const int c = accept(listener, nullptr, nullptr);
      char buf[1 << 16];
      for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;) bytes += static_cast<size_t>(n);
      close(c);
    });
    std::string error;
    auto target = parse_syslog_url("tcp://127.0.0.1:" + std::to_string(ntohs(a.sin_port)), error);
    SyslogIdentity id;
    id.hostname = "bench";
    // Each event is ~1,040 bytes on the wire with its header and frame length.
    const size_t per_event = 4 + 1 + format_rfc5424(OutRecord{1, 1, event(0)->json}, id).size();
    run("syslog tcp (RFC 5424)", std::make_unique<SyslogTransport>(*target, id), kEvents);
    (void)per_event;
    shutdown(listener, SHUT_RDWR);
    close(listener);
    reader.detach();
  }

  {
    // The spool's drain: 50,000 events spooled while the collector was down, then it is back.
    llmtap::testing::CollectorReceiverOptions ro;
    ro.cert_file = (dir / "c.crt").string();
    ro.key_file = (dir / "c.key").string();
    ro.format = llmtap::testing::CollectorFormat::kSplunkHec;
    llmtap::testing::CollectorReceiver receiver(ro);
    receiver.stop();
    HttpTarget t;
    t.kind = HttpTarget::Kind::kSplunkHec;
    t.url = receiver.url();
    t.token = "bench";
    t.ca_file = ro.cert_file;
    DeliveryOptions o;
    o.spool_dir = (dir / "spool").string();
    o.batch_delay = std::chrono::milliseconds(20);
    o.backoff_min = std::chrono::milliseconds(100);
    o.backoff_max = std::chrono::milliseconds(200);
    DeliveryQueue q("hec", std::make_unique<HttpTransport>(t), as_is(), o);
    constexpr size_t kSpooled = 50000;
    const auto fill_start = Clock::now();
    for (size_t n = 0; n < kSpooled; ++n) {
      q.submit(event(n));
      if (n % 5000 == 4999) {
        while (q.stats().spool_records + 20000 < n) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
    }
    while (q.stats().spool_records + q.stats().dropped_handoff < kSpooled) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();
    std::printf("%-28s %8zu events in %6.2f s: %9.0f events/s into the spool (%.0f MB on disk)\n",
                "spool fill", kSpooled, fill_s, kSpooled / fill_s, q.stats().spool_bytes / 1e6);
    receiver.start();
    const auto start = Clock::now();
    while (receiver.records() < kSpooled) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("%-28s %8zu events in %6.2f s: %9.0f events/s drained\n", "spool drain (hec)",
                kSpooled, s, kSpooled / s);
  }
  fs::remove_all(dir);
  return 0;
}
