// How fast llmtap follows processes: time from exec to attached (node, static OpenSSL), from
// a late dlopen to attached (python loading a never-seen libssl copy), and the agent's CPU
// while 50 TLS clients a second start and exit. Prints figures; asserts nothing.
//
//   discovery_bench [--runs N] [--seconds S]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "tls_test_server.h"
#include "trace_session.h"

namespace {

namespace fs = std::filesystem;
using llmtap::e2e::run_child;
using llmtap::e2e::TraceSession;

// "attach latency N us (exec|library mapped ...)" lines of `llmtap -v trace`.
std::vector<double> latencies_ms(const std::string& log, const std::string& kind) {
  std::vector<double> out;
  const std::regex line("attach latency ([0-9]+) us \\((" + kind + ")");
  for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it) {
    out.push_back(std::stod((*it)[1]) / 1000.0);
  }
  return out;
}

void print_latencies(const char* what, std::vector<double> v) {
  if (v.empty()) {
    std::printf("%-34s no samples\n", what);
    return;
  }
  std::sort(v.begin(), v.end());
  std::printf("%-34s n=%zu  median %.2f ms  p90 %.2f ms  max %.2f ms\n", what, v.size(),
              v[v.size() / 2], v[v.size() * 9 / 10], v.back());
}

// utime + stime of `pid` in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) {
      stime = std::stoull(f);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 10;
  double seconds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--runs") runs = std::stoi(argv[i + 1]);
    if (std::string(argv[i]) == "--seconds") seconds = std::stod(argv[i + 1]);
  }
  const fs::path dir = fs::temp_directory_path() / ("llmtap-dbench-" + std::to_string(getpid()));
  fs::create_directories(dir / "libs");
  fs::copy_file("/usr/lib/x86_64-linux-gnu/libssl.so.3", dir / "libs" / "libssl.so.3");
  llmtap::testing::write_self_signed_certificate(dir / "cert.pem", dir / "key.pem");
  llmtap::testing::TlsTestServerOptions options;
  options.cert_file = dir / "cert.pem";
  options.key_file = dir / "key.pem";
  llmtap::testing::TlsTestServer server(options);
  const std::string port = std::to_string(server.port());
  const std::string client = std::string(LLMTAP_SOURCE_DIR) + "/tests/clients/";

  {
    TraceSession trace({}, std::chrono::seconds(30), {"-v"});
    for (int i = 0; i < runs; ++i) {
      run_child({"node", client + "node_client.js", "--host", "127.0.0.1", "--port", port,
                 "--requests", "1", "--body-bytes", "100", "--response-bytes", "100"});
      run_child({"env", "LD_LIBRARY_PATH=" + (dir / "libs").string(), "python3",
                 client + "python_client.py", "--host", "127.0.0.1", "--port", port, "--requests",
                 "1", "--body-bytes", "100", "--response-bytes", "100", "--import-delay-ms",
                 "100"});
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let it detach
    }
    trace.stop();
    const std::string log = trace.stderr_text();
    std::printf("attach latency, from the kernel event to probes in place (%d runs):\n", runs);
    print_latencies("  exec -> attached (node)", latencies_ms(log, "exec"));
    print_latencies("  dlopen -> attached (libssl copy)", latencies_ms(log, "library mapped"));
    const std::regex holds("holds=([0-9]+) released=([0-9]+)");
    std::smatch m;
    if (std::regex_search(log, m, holds)) {
      std::printf("  processes held at connect() while attaching: %s (released %s)\n",
                  m[1].str().c_str(), m[2].str().c_str());
    }
  }

  {
    TraceSession trace({});
    const double cpu_before = cpu_seconds(trace.pid());
    const auto start = std::chrono::steady_clock::now();
    int spawned = 0;
    std::deque<std::unique_ptr<llmtap::e2e::ChildProcess>> running;
    while (std::chrono::steady_clock::now() - start < std::chrono::duration<double>(seconds)) {
      const auto due = start + std::chrono::milliseconds(20 * spawned);  // 50 a second
      std::this_thread::sleep_until(due);
      // Started on the clock, not after the previous one ended: 50 a second whatever each
      // takes; reaped a batch behind.
      running.push_back(std::make_unique<llmtap::e2e::ChildProcess>(std::vector<std::string>{
          "curl", "-sk", "-o", "/dev/null", "https://127.0.0.1:" + port + "/v1/x", "-d", "{}"}));
      running.back()->release();
      ++spawned;
      if (running.size() > 25) {
        running.front()->wait();
        running.pop_front();
      }
    }
    for (auto& child : running) child->wait();
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = cpu_seconds(trace.pid()) - cpu_before;
    const auto summary = trace.stop();
    std::printf(
        "agent CPU with %.0f TLS clients/s starting and exiting (%d in %.1f s): %.1f %% of "
        "one core; calls %llu, lost bytes %llu\n",
        spawned / wall, spawned, wall, 100.0 * cpu / wall,
        static_cast<unsigned long long>(summary.at("calls")),
        static_cast<unsigned long long>(summary.at("lost_bytes")));
  }
  fs::remove_all(dir);
  return 0;
}
