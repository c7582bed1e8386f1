#include "common/backlog_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace llmtap::common {
namespace {

using namespace std::chrono_literals;
using Probe = BacklogWriter::Probe;
using WhenFull = BacklogWriter::WhenFull;

class BacklogWriterTest : public ::testing::Test {
 protected:
  // EPIPE, not SIGPIPE, once a reader is gone, as in the agent (stop_signal.cpp). Not restored:
  // a writer thread left behind by a test may meet its EPIPE after the test has ended.
  void SetUp() override { signal(SIGPIPE, SIG_IGN); }
};

struct Fds {
  int r = -1;  // what the reader holds
  int w = -1;  // what the writer writes to
  ~Fds() {
    if (r >= 0) close(r);
    if (w >= 0) close(w);
  }
};

Fds make_pipe(int capacity) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  EXPECT_EQ(fcntl(fds[1], F_SETPIPE_SZ, capacity), capacity);
  return Fds{fds[0], fds[1]};
}

Fds make_socket_pair() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  const int small = 16 * 1024;
  setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  return Fds{fds[0], fds[1]};
}

// Lines "<batch>:<line>:xxxx...\n", `lines` of them, about `line_bytes` each.
std::string batch_of_lines(int batch, int lines, size_t line_bytes) {
  std::string out;
  for (int i = 0; i < lines; ++i) {
    std::string line = std::to_string(batch) + ":" + std::to_string(i) + ":";
    line.resize(line_bytes - 1, 'x');
    out += line + "\n";
  }
  return out;
}

// What the reader end gets: `want` bytes, or less when no byte comes for a second.
std::string read_all(int fd, size_t want) {
  std::string got;
  char buf[65536];
  while (got.size() < want) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) break;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

// The writer must hand over batches a reader that is not reading cannot take, without blocking.
void check_nothing_blocks_and_all_arrives_in_order(Fds fds, Probe probe) {
  BacklogWriter writer(fds.w, 8 << 20, WhenFull::kDrop, probe);
  std::string expected;
  const auto start = std::chrono::steady_clock::now();
  for (int b = 0; b < 40; ++b) {  // 40 x 40 KiB: far more than the pipe or socket holds
    std::string batch = batch_of_lines(b, 40, 1024);
    expected += batch;
    EXPECT_TRUE(writer.submit(batch));
    EXPECT_TRUE(batch.empty());
  }
  // Without a reader a blocking write would wait for ever; the test's own deadline would end it.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_GT(writer.backlog_bytes(), 0u);
  std::string got;
  std::thread reader([&] { got = read_all(fds.r, expected.size()); });
  EXPECT_TRUE(writer.drain(5s));
  reader.join();
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "bytes out of order or changed";
  const BacklogStats s = writer.stats();
  EXPECT_EQ(s.dropped_batches, 0u);
  EXPECT_GT(s.written_later, 0u);
  EXPECT_GT(s.peak_backlog_bytes, 0u);
}

TEST_F(BacklogWriterTest, APipeWhoseReaderIsNotReadingNeverBlocksTheCaller) {
  check_nothing_blocks_and_all_arrives_in_order(make_pipe(64 * 1024), Probe::kAuto);
}

TEST_F(BacklogWriterTest, APipeOnAKernelWithoutNowaitPipesNeverBlocksTheCaller) {
  check_nothing_blocks_and_all_arrives_in_order(make_pipe(64 * 1024), Probe::kNoNowait);
}

TEST_F(BacklogWriterTest, ASocketWhoseReaderIsNotReadingNeverBlocksTheCaller) {
  check_nothing_blocks_and_all_arrives_in_order(make_socket_pair(), Probe::kAuto);
}

TEST_F(BacklogWriterTest, ASocketWithoutNowaitNeverBlocksTheCaller) {
  check_nothing_blocks_and_all_arrives_in_order(make_socket_pair(), Probe::kNoNowait);
}

TEST_F(BacklogWriterTest, WhatAReaderKeepsUpWithIsWrittenInlineWithoutTheThread) {
  Fds fds = make_pipe(1 << 20);
  BacklogWriter writer(fds.w, 8 << 20);
  std::string batch = batch_of_lines(0, 10, 100);
  const std::string expected = batch;
  EXPECT_TRUE(writer.submit(batch));
  EXPECT_EQ(writer.stats().written_inline, 1u);
  EXPECT_EQ(writer.stats().written_later, 0u);
  EXPECT_EQ(writer.backlog_bytes(), 0u);
  EXPECT_TRUE(writer.drain(1s));
  EXPECT_EQ(read_all(fds.r, expected.size()), expected);
}

TEST_F(BacklogWriterTest, ARegularFileIsWrittenInline) {
  char path[] = "/tmp/llmtap-backlog-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  {
    BacklogWriter writer(fd, 0);  // no backlog at all: a file never needs one
    for (int b = 0; b < 5; ++b) {
      std::string batch = batch_of_lines(b, 100, 1024);
      EXPECT_TRUE(writer.submit(batch));
    }
    EXPECT_EQ(writer.stats().written_inline, 5u);
    EXPECT_EQ(writer.stats().dropped_batches, 0u);
  }
  EXPECT_EQ(lseek(fd, 0, SEEK_END), 5 * 100 * 1024);
  close(fd);
}

TEST_F(BacklogWriterTest, PastItsCapWholeBatchesAreDroppedAndCountedNeverHalfALine) {
  Fds fds = make_pipe(64 * 1024);
  const size_t cap = 256 * 1024;
  BacklogWriter writer(fds.w, cap);
  std::vector<std::string> sent;
  for (int b = 0; b < 30; ++b) {  // 30 x 40 KiB against 64 KiB of pipe and 256 KiB of backlog
    std::string batch = batch_of_lines(b, 40, 1024);
    sent.push_back(batch);
    EXPECT_TRUE(writer.submit(batch));
    EXPECT_LE(writer.backlog_bytes(), cap + 40 * 1024);  // over by at most one part-written rest
  }
  const BacklogStats dropped = writer.stats();
  EXPECT_GT(dropped.dropped_batches, 10u);
  EXPECT_EQ(dropped.dropped_lines, dropped.dropped_batches * 40);
  EXPECT_EQ(dropped.dropped_bytes, dropped.dropped_batches * 40 * 1024);
  const size_t kept = sent.size() * 40 * 1024 - dropped.dropped_bytes;
  std::string got;
  std::thread reader([&] { got = read_all(fds.r, kept); });
  EXPECT_TRUE(writer.drain(5s));
  reader.join();
  EXPECT_EQ(got.size(), kept);
  // What arrived is whole batches, in order: a subsequence of what was sent.
  size_t at = 0;
  size_t batches = 0;
  for (const std::string& b : sent) {
    if (got.compare(at, b.size(), b) == 0) {
      at += b.size();
      ++batches;
    }
  }
  EXPECT_EQ(at, got.size()) << "a line arrived cut, changed or out of order";
  EXPECT_EQ(batches + dropped.dropped_batches, sent.size());
}

TEST_F(BacklogWriterTest, WhenFullAndToldToWaitItWaitsForRoomAndDropsNothing) {
  Fds fds = make_pipe(64 * 1024);
  BacklogWriter writer(fds.w, 128 * 1024, WhenFull::kWait);
  std::string expected;
  std::string got;
  std::thread reader([&] {
    std::this_thread::sleep_for(400ms);  // 10 x 40 KiB: more than the pipe and the backlog hold
    got = read_all(fds.r, 10 * 40 * 1024);
  });
  const auto start = std::chrono::steady_clock::now();
  for (int b = 0; b < 10; ++b) {
    std::string batch = batch_of_lines(b, 40, 1024);
    expected += batch;
    EXPECT_TRUE(writer.submit(batch));
    EXPECT_LE(writer.backlog_bytes(), 128u * 1024 + 40 * 1024);
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms) << "it should have waited";
  EXPECT_TRUE(writer.drain(5s));
  reader.join();
  EXPECT_TRUE(got == expected);
  EXPECT_EQ(writer.stats().dropped_batches, 0u);
}

TEST_F(BacklogWriterTest, EvenWithNoBacklogAPartWrittenBatchIsFinished) {
  Fds fds = make_pipe(64 * 1024);
  BacklogWriter writer(fds.w, 0);
  std::string first = batch_of_lines(0, 100, 1024);  // 100 KiB: the pipe takes 64 at once
  const std::string expected = first;
  EXPECT_TRUE(writer.submit(first));
  EXPECT_GT(writer.backlog_bytes(), 0u);  // its rest, over the cap of 0: never half a line
  std::string second = batch_of_lines(1, 2, 100);
  EXPECT_TRUE(writer.submit(second));  // behind the rest, with no room: dropped whole
  EXPECT_EQ(writer.stats().dropped_batches, 1u);
  EXPECT_EQ(writer.stats().dropped_lines, 2u);
  std::string got;
  std::thread reader([&] { got = read_all(fds.r, expected.size()); });
  EXPECT_TRUE(writer.drain(5s));
  reader.join();
  EXPECT_TRUE(got == expected);
}

TEST_F(BacklogWriterTest, AReaderThatIsGoneEndsTheWritingAndCountsWhatWasLeft) {
  Fds fds = make_pipe(64 * 1024);
  BacklogWriter writer(fds.w, 8 << 20);
  std::string batch = batch_of_lines(0, 100, 1024);  // 100 KiB: more than the pipe holds
  EXPECT_TRUE(writer.submit(batch));
  close(fds.r);
  fds.r = -1;
  EXPECT_FALSE(writer.drain(5s));
  std::string next = batch_of_lines(1, 3, 100);
  EXPECT_FALSE(writer.submit(next));
  const BacklogStats s = writer.stats();
  EXPECT_GE(s.dropped_batches, 2u);
  EXPECT_GE(s.dropped_lines, 3u);
}

TEST_F(BacklogWriterTest, DrainGivesUpOnAReaderThatStoppedAndTheWriterStillEnds) {
  Fds fds = make_pipe(64 * 1024);
  {
    BacklogWriter writer(fds.w, 8 << 20);
    for (int b = 0; b < 5; ++b) {
      std::string batch = batch_of_lines(b, 40, 1024);
      EXPECT_TRUE(writer.submit(batch));
    }
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(writer.drain(300ms));
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, 300ms);
    EXPECT_LT(waited, 3s);
    EXPECT_GT(writer.stats().dropped_batches, 0u);
  }  // the writer thread, stuck in write(), is left behind: this must not hang
  close(fds.r);  // its write now fails with EPIPE and the thread ends
  fds.r = -1;
}

TEST_F(BacklogWriterTest, ATerminalIsWrittenByTheThread) {
  int master = -1;
  int slave = -1;
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  termios raw{};
  ASSERT_EQ(tcgetattr(slave, &raw), 0);
  cfmakeraw(&raw);
  ASSERT_EQ(tcsetattr(slave, TCSANOW, &raw), 0);
  std::string expected;
  {
    BacklogWriter writer(slave, 8 << 20);
    for (int b = 0; b < 3; ++b) {
      std::string batch = batch_of_lines(b, 4, 64);
      expected += batch;
      EXPECT_TRUE(writer.submit(batch));
    }
    EXPECT_EQ(writer.stats().written_inline, 0u);
    std::string got;
    std::thread reader([&] {
      while (got.size() < expected.size()) {
        pollfd p{master, POLLIN, 0};
        if (poll(&p, 1, 2000) <= 0) break;
        char buf[4096];
        const ssize_t n = read(master, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
      }
    });
    EXPECT_TRUE(writer.drain(5s));
    reader.join();
    EXPECT_EQ(got, expected);
  }
  close(slave);
  close(master);
}

}  // namespace
}  // namespace llmtap::common
