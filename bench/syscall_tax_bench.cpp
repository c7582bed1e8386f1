// What llmtap costs processes that make no TLS call at all: the CPU of `dd if=/dev/zero
// of=/dev/null bs=512 count=N` (2N read/write syscalls) and of a write+read loop on a socket
// pair, bare and with `llmtap daemon` running host-wide, in alternating runs. Prints the
// medians, the spread and the ratio. As root; not a test.
//
//   syscall_tax_bench [--runs 5] [--dd-count 2000000] [--pairs 1000000] [-- llmtap args...]
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>
#include <string>
#include <vector>

#include "trace_session.h"

namespace {

using llmtap::e2e::TraceSession;

double cpu_seconds(const rusage& r) {
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

// Runs `argv` and returns its CPU time (user + system).
double child_cpu(const std::vector<std::string>& argv) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    freopen("/dev/null", "w", stderr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  return cpu_seconds(usage);
}

// A child writing and reading `pairs` 64-byte messages on a socket pair: CPU time.
double socketpair_cpu(long pairs) {
  const pid_t pid = fork();
  if (pid == 0) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) _exit(1);
    char buf[64] = {};
    for (long i = 0; i < pairs; ++i) {
      if (write(sv[0], buf, sizeof buf) != sizeof buf) _exit(2);
      if (read(sv[1], buf, sizeof buf) != sizeof buf) _exit(3);
    }
    _exit(0);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  return cpu_seconds(usage);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  long dd_count = 2000000;
  long pairs = 1000000;
  std::vector<std::string> llmtap_args = {"--no-stdout", "--metrics-address", "off"};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--dd-count" && i + 1 < argc) dd_count = std::atol(argv[++i]);
    else if (a == "--pairs" && i + 1 < argc) pairs = std::atol(argv[++i]);
    else if (a == "--") {
      llmtap_args.assign(argv + i + 1, argv + argc);
      break;
    }
  }
  const std::vector<std::string> dd = {"dd", "if=/dev/zero", "of=/dev/null", "bs=512",
                                       "count=" + std::to_string(dd_count)};
  std::vector<double> dd_bare, dd_on, sp_bare, sp_on;
  for (int r = 0; r < runs; ++r) {
    dd_bare.push_back(child_cpu(dd));
    sp_bare.push_back(socketpair_cpu(pairs));
    std::optional<TraceSession> daemon;
    daemon.emplace(llmtap_args, std::chrono::seconds(60), std::vector<std::string>{}, "daemon");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    dd_on.push_back(child_cpu(dd));
    sp_on.push_back(socketpair_cpu(pairs));
    daemon.reset();
    std::fprintf(stderr, "run %d: dd %.3f / %.3f s, socketpair %.3f / %.3f s\n", r + 1,
                 dd_bare.back(), dd_on.back(), sp_bare.back(), sp_on.back());
  }
  auto row = [](const char* name, const std::vector<double>& bare, const std::vector<double>& on) {
    const double b = median(bare);
    const double o = median(on);
    std::printf("%-34s bare %.3f s [%.3f-%.3f]  with llmtap %.3f s [%.3f-%.3f]  x%.3f\n", name, b,
                *std::min_element(bare.begin(), bare.end()),
                *std::max_element(bare.begin(), bare.end()), o,
                *std::min_element(on.begin(), on.end()), *std::max_element(on.begin(), on.end()),
                b > 0 ? o / b : 0);
  };
  std::printf("syscall tax, %d alternating runs, CPU (user+sys) medians [min-max]\n", runs);
  row(("dd bs=512 count=" + std::to_string(dd_count)).c_str(), dd_bare, dd_on);
  row(("socketpair write+read x" + std::to_string(pairs)).c_str(), sp_bare, sp_on);
  return 0;
}
