#include "capture/process_resume.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

namespace llmtap::capture {
namespace {

char state_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  return close == std::string::npos ? '\0' : text[close + 2];
}

// A child stopped by SIGSTOP, killed and reaped at the end of the test.
class StoppedChild {
 public:
  StoppedChild() : pid_(fork()) {
    if (pid_ == 0) {
      pause();
      _exit(0);
    }
    kill(pid_, SIGSTOP);
    for (int i = 0; i < 1000 && state_of(pid_) != 'T'; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~StoppedChild() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  uint64_t start_boottime_ns() const {
    return *process_start_ticks(pid_) * (1'000'000'000ull / sysconf(_SC_CLK_TCK));
  }

 private:
  pid_t pid_;
};

TEST(ProcessResume, ReadsStartTimeOfALiveProcessAndNothingOfAGoneOne) {
  EXPECT_TRUE(process_start_ticks(getpid()).has_value());
  EXPECT_FALSE(process_start_ticks(0x3ffffff).has_value());
}

TEST(ProcessResume, StatFieldsCountFromTheLastParenthesis) {
  const std::string text = "4242 (we (ird) name) S 1 4242 4242 0 -1 4194560 77 0 0\n";
  EXPECT_FALSE(stat_text_field(text, 3).has_value());  // the state letter is no number
  EXPECT_EQ(stat_text_field(text, 4), 1u);
  EXPECT_EQ(stat_text_field(text, 9), 4194560u);
  EXPECT_EQ(stat_text_field(text, 10), 77u);
  EXPECT_FALSE(stat_text_field(text, 20).has_value());  // past the end
  EXPECT_FALSE(stat_text_field(text, 2).has_value());
  EXPECT_FALSE(stat_text_field("no parenthesis 1 2 3", 4).has_value());
  EXPECT_FALSE(stat_text_field("1 (x) S 12abc", 4).has_value());
}

TEST(ProcessResume, KeptStatFileReadsAgainAndFailsOnceTheProcessIsGone) {
  const ProcStatFile self(getpid());
  for (int i = 0; i < 100; ++i) ASSERT_EQ(self.field(4), static_cast<uint64_t>(getppid()));
  EXPECT_EQ(self.field(22), process_start_ticks(getpid()));
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  const ProcStatFile stat(child);
  EXPECT_EQ(stat.field(4), static_cast<uint64_t>(getpid()));
  EXPECT_EQ(stat.field(9), process_stat_field(child, 9));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_FALSE(stat.field(4).has_value());  // reaped: the kept file names nobody
  EXPECT_FALSE(ProcStatFile(0x3ffffff).field(4).has_value());
}

TEST(ProcessResume, TicksFromBoottimeNanoseconds) {
  const uint64_t tick = 1'000'000'000ull / sysconf(_SC_CLK_TCK);
  EXPECT_EQ(boottime_ns_to_ticks(5 * tick + tick - 1), 5u);
  EXPECT_EQ(boottime_ns_to_ticks(0), 0u);
}

TEST(ProcessResume, ResumesTheProcessThatWasStopped) {
  StoppedChild child;
  ASSERT_EQ(state_of(child.pid()), 'T');
  EXPECT_EQ(resume_stopped_process(child.pid(), child.start_boottime_ns()),
            ResumeOutcome::kResumed);
  for (int i = 0; i < 1000 && state_of(child.pid()) == 'T'; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_NE(state_of(child.pid()), 'T');
}

TEST(ProcessResume, NeverResumesAnotherProcessOnTheSamePid) {
  StoppedChild child;
  // As if the pid had been reused by a process that started a second later.
  const uint64_t later = child.start_boottime_ns() + 1'000'000'000ull;
  EXPECT_EQ(resume_stopped_process(child.pid(), later), ResumeOutcome::kNotOurs);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(state_of(child.pid()), 'T');
}

TEST(ProcessResume, AGoneProcessIsGone) {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  EXPECT_EQ(resume_stopped_process(pid, 0), ResumeOutcome::kGone);
}

}  // namespace
}  // namespace llmtap::capture
