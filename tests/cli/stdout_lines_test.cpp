#include "cli/stdout_lines.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

namespace llmtap::cli {
namespace {

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { EXPECT_EQ(pipe(fds), 0); }
  ~Pipe() {
    close(fds[0]);
    close(fds[1]);
  }
};

TEST(WidenPipe, GrowsAPipeToTheCapacityAsked) {
  Pipe p;
  ASSERT_EQ(fcntl(p.fds[1], F_GETPIPE_SZ), 64 * 1024);
  EXPECT_EQ(widen_pipe(p.fds[1], 512 * 1024), 512 * 1024);
  EXPECT_EQ(fcntl(p.fds[1], F_GETPIPE_SZ), 512 * 1024);
  // Both ends share the one pipe.
  EXPECT_EQ(fcntl(p.fds[0], F_GETPIPE_SZ), 512 * 1024);
}

TEST(WidenPipe, NeverShrinksAPipe) {
  Pipe p;
  ASSERT_EQ(fcntl(p.fds[1], F_SETPIPE_SZ, 256 * 1024), 256 * 1024);
  EXPECT_EQ(widen_pipe(p.fds[1], 128 * 1024), 256 * 1024);
  EXPECT_EQ(fcntl(p.fds[1], F_GETPIPE_SZ), 256 * 1024);
}

TEST(WidenPipe, AsksForNoMoreThanTheSystemsPipeMaximum) {
  Pipe p;
  long max = 0;
  FILE* f = std::fopen("/proc/sys/fs/pipe-max-size", "r");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fscanf(f, "%ld", &max), 1);
  std::fclose(f);
  // Twice the maximum would be refused outright (EPERM without CAP_SYS_RESOURCE, and a root
  // process would get it): the pipe gets the maximum instead.
  EXPECT_EQ(widen_pipe(p.fds[1], static_cast<int>(max * 2)), max);
  EXPECT_EQ(fcntl(p.fds[1], F_GETPIPE_SZ), max);
}

TEST(WidenPipe, LeavesAnythingButAPipeAlone) {
  char path[] = "/tmp/llmtap-widen-pipe-XXXXXX";
  const int file = mkstemp(path);
  ASSERT_GE(file, 0);
  unlink(path);
  EXPECT_EQ(widen_pipe(file, kStdoutPipeBytes), 0);
  close(file);
  EXPECT_EQ(widen_pipe(-1, kStdoutPipeBytes), 0);
}

TEST(StdoutLines, WidensStdoutWhenItIsAPipeAndWritesThroughIt) {
  Pipe p;
  std::fflush(stdout);
  const int saved = dup(STDOUT_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_GE(dup2(p.fds[1], STDOUT_FILENO), 0);
  bool wrote = false;
  {
    StdoutLines out;
    const int capacity = fcntl(p.fds[0], F_GETPIPE_SZ);
    EXPECT_GE(capacity, 256 * 1024);
    // More than the default 64 KiB pipe holds, written with no reader yet: fits in the wider
    // pipe (not attempted in a narrow one, where it would block this test).
    if (capacity >= 256 * 1024) {
      out.buffer().assign(200 * 1024, 'x');
      EXPECT_TRUE(out.flush());
      EXPECT_TRUE(out.buffer().empty());
      wrote = true;
    }
  }
  std::fflush(stdout);
  ASSERT_GE(dup2(saved, STDOUT_FILENO), 0);
  close(saved);
  std::string got(300 * 1024, '\0');
  ASSERT_EQ(fcntl(p.fds[0], F_SETFL, O_NONBLOCK), 0);
  size_t total = 0;
  for (ssize_t n; (n = read(p.fds[0], got.data() + total, got.size() - total)) > 0;) total += n;
  EXPECT_EQ(total, wrote ? 200u * 1024 : 0u);
}

TEST(StdoutLines, HandsALargeRoundOverWithoutWaitingForTheRoundsEnd) {
  char path[] = "/tmp/llmtap-stdout-lines-XXXXXX";
  const int file = mkstemp(path);
  ASSERT_GE(file, 0);
  unlink(path);
  std::fflush(stdout);
  const int saved = dup(STDOUT_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_GE(dup2(file, STDOUT_FILENO), 0);
  {
    StdoutLines out;
    out.buffer().assign(kStdoutBatchBytes - 1, 'x');
    out.flush_if_full();
    EXPECT_EQ(out.buffer().size(), kStdoutBatchBytes - 1) << "below a batch: kept for the round";
    out.buffer() += '\n';  // exactly a batch
    out.flush_if_full();
    EXPECT_TRUE(out.buffer().empty()) << "a batch's worth: handed over at once";
    EXPECT_TRUE(out.finish());
  }
  ASSERT_GE(dup2(saved, STDOUT_FILENO), 0);
  close(saved);
  EXPECT_EQ(lseek(file, 0, SEEK_END), static_cast<off_t>(kStdoutBatchBytes));
  close(file);
}

}  // namespace
}  // namespace llmtap::cli
