// Overload: above the rated load losses are counted and the capture recovers by itself; BPF
// maps full of other entries (bounded LRU maps) neither stop a process nor misattribute a byte.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bpf_gate.h"
#include "child_process.h"
#include "e2e_fixture.h"
#include "trace_session.h"

namespace llmtap::e2e {
namespace {

// The BPF maps a running process holds, by name: (fd of our own, max entries, key, value).
struct OpenMap {
  int fd = -1;
  bpf_map_info info{};
  ~OpenMap() {
    if (fd >= 0) close(fd);
  }
};

std::map<std::string, std::unique_ptr<OpenMap>> maps_of(pid_t pid) {
  std::map<std::string, std::unique_ptr<OpenMap>> maps;
  const std::string base = "/proc/" + std::to_string(pid);
  for (const auto& entry : std::filesystem::directory_iterator(base + "/fd")) {
    std::error_code ec;
    if (std::filesystem::read_symlink(entry.path(), ec).string() != "anon_inode:bpf-map") continue;
    std::ifstream fdinfo(base + "/fdinfo/" + entry.path().filename().string());
    for (std::string line; std::getline(fdinfo, line);) {
      if (line.rfind("map_id:", 0) != 0) continue;
      auto map = std::make_unique<OpenMap>();
      map->fd = bpf_map_get_fd_by_id(static_cast<uint32_t>(std::stoul(line.substr(7))));
      uint32_t len = sizeof(map->info);
      if (map->fd >= 0 && bpf_obj_get_info_by_fd(map->fd, &map->info, &len) == 0) {
        maps[map->info.name] = std::move(map);
      }
    }
  }
  return maps;
}

// Fills an LRU hash map to its bound with keys no real process can have: the first 4 bytes
// (a tgid or tid in every keyed map here) above the kernel's largest pid, the rest random.
size_t fill_with_strangers(const OpenMap& map, std::mt19937_64& rng) {
  std::vector<unsigned char> key(map.info.key_size), value(map.info.value_size, 0);
  size_t added = 0;
  for (uint32_t i = 0; i < map.info.max_entries; ++i) {
    for (auto& b : key) b = static_cast<unsigned char>(rng());
    const uint32_t stranger = (1u << 23) + i;  // pid_max is at most 4,194,304 (2^22)
    std::memcpy(key.data(), &stranger, std::min<size_t>(sizeof(stranger), key.size()));
    added += bpf_map_update_elem(map.fd, key.data(), value.data(), BPF_ANY) == 0;
  }
  return added;
}

TEST(OverloadE2E, LossesAreCountedAndTheCaptureRecoversWhenTheLoadDrops) {
  Fixture f;
  START_TRACE(trace, "--comm", "python3", "--ring-buffer-size", "65536");
  // Far above what a 64 KiB ring holds between two reads: calls are lost, and counted.
  run_client(f, python_command(f, 40, 64 * 1024, 64 * 1024));
  // The load drops: the next client is captured whole, by the same agent, with nothing done.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const ClientRun calm = run_client(f, python_command(f, 3, 2000, 3000));
  expect_byte_exact(*trace, f, calm, "python3");
  const auto summary = trace->stop();
  EXPECT_GT(summary.at("lost_bytes"), 0u) << "the burst should have overflowed the ring";
  EXPECT_GT(summary.at("lost_calls"), 0u);
}

// stdout's reader stops reading for a while (a paused pager, a slow pipeline): trace goes on
// draining the ring into its stdout backlog, so a burst far larger than the pipe and the ring
// together is captured whole, and arrives in order once the reader reads again. (Before the
// backlog, trace waited in write() once the pipe was full, the ring filled, and calls were lost.)
TEST(OverloadE2E, AStdoutReaderThatStopsReadingCostsNoCall) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  StdoutPipe out;
  std::optional<TraceSession> trace;
  try {
    trace.emplace(std::vector<std::string>{"--comm", "python3", "--ring-buffer-size", "4194304",
                                           "--stdout-backlog", "67108864"},
                  std::chrono::seconds(30), std::vector<std::string>{}, "trace", out.write_fd());
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  out.close_write();
  // 16 calls of 512 KiB up and 32 KiB down, nothing read meanwhile: 8.5 MiB of data, 11 MiB of
  // JSON: ten times the pipe (1 MiB) and twice the ring (4 MiB).
  const ClientRun run = run_client(f, python_command(f, 16, 512 * 1024, 32 * 1024));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    for (ssize_t n; (n = read(out.read_fd(), buf, sizeof buf)) > 0;) {
      got.append(buf, static_cast<size_t>(n));
    }
  });
  const auto summary = trace->stop();
  reader.join();
  EXPECT_EQ(summary.at("lost_calls"), 0u);
  EXPECT_EQ(summary.at("lost_bytes"), 0u);
  EXPECT_EQ(trace->stderr_text().find("not written"), std::string::npos) << trace->stderr_text();
  std::vector<TraceEvent> events;
  for (auto& e : tls_events_in(got)) {
    if (e.pid == static_cast<uint32_t>(run.pid)) events.push_back(std::move(e));
  }
  ASSERT_EQ(run.connections.size(), 1u);
  const auto& c = run.connections[0];
  const std::string src = endpoint_text(c.peer_address, c.peer_port);
  const std::string writes = concat_data(events, "write", src);
  const std::string reads = concat_data(events, "read", src);
  EXPECT_EQ(writes.size(), c.received.size());
  EXPECT_TRUE(writes == c.received) << "captured writes differ";
  EXPECT_EQ(reads.size(), c.sent.size());
  EXPECT_TRUE(reads == c.sent) << "captured reads differ";
}

TEST(OverloadE2E, FullMapsOfOtherEntriesNeitherStopNorMisattribute) {
  Fixture f;
  START_TRACE(trace);
  std::mt19937_64 rng(16);
  const auto maps = maps_of(trace->pid());
  // The LRU maps (connections, files, processes): full, every entry a stranger's. New entries
  // then evict old ones; none may be mistaken for a real one. (Calls in flight live in each
  // thread's own storage, which no other thread can fill.)
  size_t filled = 0;
  for (const char* name : {"conns", "sk_conns", "fd_conns", "quiet_conns", "prevent_exempt",
                           "watched_tgids", "lib_users", "hold_tokens"}) {
    const auto it = maps.find(name);
    ASSERT_NE(it, maps.end()) << "no map " << name;
    ASSERT_EQ(it->second->info.type, BPF_MAP_TYPE_LRU_HASH) << name;
    EXPECT_EQ(fill_with_strangers(*it->second, rng), it->second->info.max_entries) << name;
    ++filled;
  }
  EXPECT_EQ(filled, 8u);
  // Real clients, each on its own connections: every byte captured, under its own process.
  const ClientRun curl = run_client(f, curl_command(f, 3000, 5000));
  expect_byte_exact(*trace, f, curl, "curl");
  const ClientRun python = run_client(f, python_command(f, 5, 2000, 4000));
  expect_byte_exact(*trace, f, python, "python3");
  const auto summary = trace->stop();
  EXPECT_EQ(trace->exit_code(), 0) << trace->stderr_text();
  EXPECT_EQ(summary.at("lost_bytes"), 0u);
  EXPECT_EQ(summary.at("lost_calls"), 0u);
  // Nobody was stopped: tokens of strangers stop nobody, and the clients exited on their own.
  EXPECT_EQ(summary.at("holds"), 0u) << trace->stderr_text();
}

}  // namespace
}  // namespace llmtap::e2e
