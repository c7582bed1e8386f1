// The agent's own CPU per LLM call: `llmtap daemon` and `llmtap trace` (host-wide, with --comm
// naming this program so other traffic on the machine is not captured) while this program makes
// LLM-shaped calls (POST /v1/chat/completions, an OpenAI JSON body, a chat.completion JSON
// answer with usage) over one keep-alive TLS connection to a local TLS server in this process.
// Both ends of every call are in this process, so the agent sees each call twice (client and
// server side): two records' worth of parsing per call.
//
// Agent CPU is the sum of /proc/PID/task/*/schedstat run time over the agent's threads (and
// its child processes: the hold guard), read before and after the measured calls, once the
// agent's output has stopped growing. Prints figures; asserts nothing.
//
//   agent_cpu_bench [--calls N] [--warmup N] [--runs R] [--body BYTES] [--response BYTES]
//                   [--mode daemon|trace|both] [--binary PATH]... [--rate CALLS_PER_S]
//                   [--seconds S] [--idle-seconds S] [--warm-ring-mib M]
//
// Before the warm-up calls, 1.25 x --warm-ring-mib (default 32, the agent's default ring; 0:
// none) of 64 KiB calls go through the agent's data ring, unmeasured: a fresh ring's pages
// cost more on their first touch than on any later pass (docs/bpf-maps.md), and a node agent
// runs in the steady state.
//
// Every call's request (a prompt numbered by the call, words picked by the number) and answer
// (its own id, text and token counts) differ, as real traffic does: nothing the agent caches
// about equal texts can serve one call from another's. After the calls, --idle-seconds of
// nothing show the agent's own idle cost (poll loop, housekeeping).
//
// Runs alternate between modes and binaries (--binary repeatable: e.g. a saved copy of the
// previous build and the current one), each run a fresh agent; medians and ranges at the end.
// With --rate, each run paces the calls at that rate for --seconds instead and reports the
// agent's CPU as a share of one core.
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "llm_call_bodies.h"
#include "openssl_handles.h"
#include "tls_test_server.h"
#include "trace_session.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using llmtap::e2e::TraceSession;

// This program's command name (comm), which the agent is told to capture: set before any
// thread starts, so the server's threads carry it too.
constexpr const char* kComm = "llmtap-cpubench";

struct Options {
  uint64_t calls = 3000;
  uint64_t warmup = 200;
  int runs = 5;
  size_t body = 1024;
  size_t response = 1024;
  std::vector<std::string> modes = {"daemon", "trace"};
  std::vector<std::string> binaries;
  double rate = 0;  // calls/s; 0: as fast as the client goes
  double seconds = 10;
  double idle_seconds = 2;
  uint64_t warm_ring_mib = 32;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--calls") o.calls = std::stoull(value);
    else if (flag == "--warmup") o.warmup = std::stoull(value);
    else if (flag == "--runs") o.runs = std::stoi(value);
    else if (flag == "--body") o.body = std::stoul(value);
    else if (flag == "--response") o.response = std::stoul(value);
    else if (flag == "--mode") o.modes = value == "both" ? std::vector<std::string>{"daemon", "trace"}
                                                         : std::vector<std::string>{value};
    else if (flag == "--binary") o.binaries.push_back(value);
    else if (flag == "--rate") o.rate = std::stod(value);
    else if (flag == "--seconds") o.seconds = std::stod(value);
    else if (flag == "--idle-seconds") o.idle_seconds = std::stod(value);
    else if (flag == "--warm-ring-mib") o.warm_ring_mib = std::stoull(value);
    else throw std::runtime_error("unknown flag " + flag);
  }
  if (o.binaries.empty()) o.binaries.push_back(llmtap::e2e::llmtap_binary());
  return o;
}

// --- The agent's CPU, memory and output, from /proc --------------------------------------------

std::vector<pid_t> numeric_entries(const std::string& dir) {
  std::vector<pid_t> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') out.push_back(std::atoi(e->d_name));
  }
  closedir(d);
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// ns on CPU of every thread of `pid` and of its child processes (recursively).
uint64_t process_tree_cpu_ns(pid_t pid) {
  uint64_t total = 0;
  const std::string base = "/proc/" + std::to_string(pid) + "/task/";
  std::set<pid_t> children;
  for (const pid_t tid : numeric_entries(base)) {
    const std::string task = base + std::to_string(tid);
    total += std::strtoull(read_text(task + "/schedstat").c_str(), nullptr, 10);
    std::istringstream kids(read_text(task + "/children"));
    for (pid_t child; kids >> child;) children.insert(child);
  }
  for (const pid_t child : children) total += process_tree_cpu_ns(child);
  return total;
}

uint64_t rss_kib(pid_t pid) {
  std::istringstream status(read_text("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// Size of what the agent has written to stdout (a file the session gave it).
off_t stdout_bytes(pid_t pid) {
  struct stat st {};
  if (stat(("/proc/" + std::to_string(pid) + "/fd/1").c_str(), &st) != 0) return -1;
  return st.st_size;
}

// Returns once the agent's output has not grown for 200 ms (it flushes every 20 ms poll) and it
// used under a tenth of a core meanwhile (an agent still draining a backlog can stop writing for
// longer, blocked in a write), so every call made so far has been processed.
void wait_until_settled(pid_t pid) {
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  off_t last = stdout_bytes(pid);
  auto stable_since = Clock::now();
  uint64_t cpu_since = process_tree_cpu_ns(pid);
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const off_t now = stdout_bytes(pid);
    if (now != last) {
      last = now;
      stable_since = Clock::now();
      cpu_since = process_tree_cpu_ns(pid);
    } else if (Clock::now() - stable_since >= std::chrono::milliseconds(200)) {
      const uint64_t cpu = process_tree_cpu_ns(pid);
      const auto window = std::chrono::duration_cast<std::chrono::nanoseconds>(
          Clock::now() - stable_since);
      if (cpu - cpu_since < static_cast<uint64_t>(window.count()) / 10) return;
      stable_since = Clock::now();
      cpu_since = cpu;
    }
  }
}

// --- The client: LLM-shaped calls on one keep-alive TLS connection ----------------------------

// An OpenAI chat.completion of `size` bytes for the call numbered `n`, with usage.
llmtap::testing::HttpResponse chat_completion(size_t size, uint64_t n, bool close_after) {
  const std::string body = llmtap::bench::chat_completion_body(size, n);
  llmtap::testing::HttpResponse response;
  response.close_after = close_after;
  response.bytes = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n" +
                   (close_after ? "Connection: close\r\n" : "Connection: keep-alive\r\n") +
                   "\r\n" + body;
  return response;
}

class LlmClient {
 public:
  LlmClient(uint16_t port, size_t body_bytes, size_t response_bytes)
      : ctx_(SSL_CTX_new(TLS_client_method())) {
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_NONE, nullptr);
    fd_ = llmtap::testing::UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("connect failed");
    }
    const int one = 1;
    setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ssl_.reset(SSL_new(ctx_.get()));
    SSL_set_fd(ssl_.get(), fd_.get());
    if (SSL_connect(ssl_.get()) != 1) throw std::runtime_error("TLS handshake failed");
    body_bytes_ = body_bytes;
    response_bytes_ = response_bytes;
  }
  ~LlmClient() { SSL_shutdown(ssl_.get()); }

  void call() {
    const std::string body = llmtap::bench::openai_request_body(body_bytes_, ++calls_);
    request_ = "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
               "User-Agent: OpenAI/Python 1.54.0\r\nAccept: application/json\r\n"
               "Authorization: Bearer sk-proj-benchbenchbenchbenchbenchbenchbench0000\r\n"
               "Content-Type: application/json\r\nx-response-bytes: " +
               std::to_string(response_bytes_) + "\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    write_all(request_);
    read_response();
  }

 private:
  void write_all(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      size_t n = 0;
      if (SSL_write_ex(ssl_.get(), data.data() + done, data.size() - done, &n) != 1) {
        throw std::runtime_error("SSL_write failed");
      }
      done += n;
    }
  }

  void read_more() {
    char chunk[16384];
    size_t n = 0;
    if (SSL_read_ex(ssl_.get(), chunk, sizeof(chunk), &n) != 1) {
      throw std::runtime_error("SSL_read failed");
    }
    buffer_.append(chunk, n);
  }

  void read_response() {
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) read_more();
    const auto cl = buffer_.find("Content-Length: ");
    if (cl == std::string::npos || cl > header_end) throw std::runtime_error("no Content-Length");
    const size_t total = header_end + 4 + std::stoul(buffer_.substr(cl + 16));
    while (buffer_.size() < total) read_more();
    buffer_.erase(0, total);
  }

  llmtap::testing::SslCtxPtr ctx_;
  llmtap::testing::UniqueFd fd_;
  llmtap::testing::SslPtr ssl_;
  size_t body_bytes_ = 0;
  size_t response_bytes_ = 0;
  uint64_t calls_ = 0;
  std::string request_;
  std::string buffer_;
};

// --- One run: a fresh agent, a fresh server and connection --------------------------------------

struct RunResult {
  double cpu_us_per_call = 0;  // burst mode
  double cpu_percent = 0;      // rate mode: agent CPU over the window, % of one core
  double idle_percent = 0;     // the same agent with no traffic, % of one core
  double client_calls_per_s = 0;
  uint64_t rss_kib = 0;
  uint64_t recorded = 0;  // daemon: LLM records; trace: TLS calls (whole run, warm-up included)
  uint64_t lost = 0;
};

RunResult run_once(const Options& o, const std::string& binary, const std::string& mode,
                   const fs::path& dir) {
  setenv("LLMTAP_BINARY", binary.c_str(), 1);
  std::vector<std::string> args = {"--comm", kComm};
  if (mode == "daemon") {
    args.insert(args.end(), {"--metrics-address", "127.0.0.1:0"});
  }
  llmtap::testing::TlsTestServerOptions server_options;
  server_options.cert_file = dir / "cert.pem";
  server_options.key_file = dir / "key.pem";
  auto served = std::make_shared<std::atomic<uint64_t>>(0);
  server_options.responder = [served](const llmtap::testing::HttpRequest& request) {
    const auto size = request.header("x-response-bytes").value_or("1024");
    return chat_completion(std::stoul(std::string(size)), ++*served, request.wants_close());
  };
  llmtap::testing::TlsTestServer server(server_options);

  TraceSession agent(args, std::chrono::seconds(60), {}, mode);
  const pid_t pid = agent.pid();
  RunResult result;

  if (o.warm_ring_mib > 0) {
    constexpr uint64_t kWarmBody = 64 << 10;  // both ends copy it into the ring
    const uint64_t warm_calls = ((o.warm_ring_mib << 20) * 5 / 4 + 2 * kWarmBody - 1) /
                                (2 * kWarmBody);
    LlmClient warm(server.port(), kWarmBody, o.response);
    for (uint64_t i = 0; i < warm_calls; ++i) warm.call();
  }
  LlmClient client(server.port(), o.body, o.response);
  for (uint64_t i = 0; i < o.warmup; ++i) client.call();
  wait_until_settled(pid);

  const uint64_t cpu0 = process_tree_cpu_ns(pid);
  const auto t0 = Clock::now();
  uint64_t calls = 0;
  if (o.rate > 0) {
    const auto period = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / o.rate));
    const auto end = t0 + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(o.seconds));
    for (auto next = t0; next < end; next += period) {
      std::this_thread::sleep_until(next);
      client.call();
      ++calls;
    }
  } else {
    for (; calls < o.calls; ++calls) client.call();
  }
  const double client_s = std::chrono::duration<double>(Clock::now() - t0).count();
  uint64_t cpu1 = 0;
  double wall_s = client_s;
  if (o.rate > 0) {
    // Rate mode: the window is the paced period itself (the agent keeps up as it goes).
    cpu1 = process_tree_cpu_ns(pid);
    wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  } else {
    wait_until_settled(pid);
    cpu1 = process_tree_cpu_ns(pid);
  }
  result.client_calls_per_s = double(calls) / client_s;
  result.cpu_us_per_call = double(cpu1 - cpu0) / 1000.0 / double(calls);
  result.cpu_percent = 100.0 * double(cpu1 - cpu0) / (wall_s * 1e9);
  result.rss_kib = rss_kib(pid);

  // Idle: the same agent once the calls stop (its poll loop and housekeeping alone).
  if (o.idle_seconds > 0) {
    const uint64_t idle0 = process_tree_cpu_ns(pid);
    const auto i0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(o.idle_seconds));
    const double wall_ns = std::chrono::duration<double, std::nano>(Clock::now() - i0).count();
    result.idle_percent = 100.0 * double(process_tree_cpu_ns(pid) - idle0) / wall_ns;
  }

  const auto summary = agent.stop();
  const auto get = [&](const char* key) {
    const auto it = summary.find(key);
    return it == summary.end() ? uint64_t{0} : it->second;
  };
  result.recorded = mode == "daemon" ? get("llm_calls") : get("calls");
  result.lost = get("lost_calls") + get("lost_records");
  return result;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string short_name(const std::string& binary, size_t index) {
  return "#" + std::to_string(index) + " " + fs::path(binary).filename().string();
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  prctl(PR_SET_NAME, kComm, 0, 0, 0);  // before any thread: they inherit it
  const fs::path dir = fs::temp_directory_path() / ("llmtap-cpubench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  llmtap::testing::write_self_signed_certificate(dir / "cert.pem", dir / "key.pem");

  const bool paced = o.rate > 0;
  if (paced) {
    std::printf("paced: %.0f calls/s for %.1f s per run, %zu B request body, %zu B response, %d runs\n",
                o.rate, o.seconds, o.body, o.response, o.runs);
  } else {
    std::printf("burst: %llu calls per run (after %llu warm-up), %zu B request body, %zu B "
                "response, %d runs\n",
                static_cast<unsigned long long>(o.calls),
                static_cast<unsigned long long>(o.warmup), o.body, o.response, o.runs);
  }
  if (o.warm_ring_mib > 0) {
    std::printf("ring warmed first: %llu MiB x 1.25 of 64 KiB calls, unmeasured\n",
                static_cast<unsigned long long>(o.warm_ring_mib));
  }
  std::printf("request: %zu B of OpenAI chat JSON, response %zu B, different every call; both "
              "ends in this process (comm %s)\n",
              llmtap::bench::openai_request_body(o.body, 1).size(), chat_completion(o.response, 1, false).bytes.size(),
              kComm);

  // (mode, binary index) -> results, runs alternating over both.
  std::map<std::pair<std::string, size_t>, std::vector<RunResult>> results;
  for (int run = 0; run < o.runs; ++run) {
    for (const auto& mode : o.modes) {
      for (size_t b = 0; b < o.binaries.size(); ++b) {
        const RunResult r = run_once(o, o.binaries[b], mode, dir);
        results[{mode, b}].push_back(r);
        std::printf(
            "run %d %-6s %-28s cpu %7.2f us/call  %6.2f %% of a core (idle %.2f %%)  client "
            "%6.0f calls/s  rss %6.1f MiB  recorded %llu  lost %llu\n",
            run + 1, mode.c_str(), short_name(o.binaries[b], b).c_str(), r.cpu_us_per_call,
            r.cpu_percent, r.idle_percent, r.client_calls_per_s, r.rss_kib / 1024.0,
            static_cast<unsigned long long>(r.recorded), static_cast<unsigned long long>(r.lost));
        std::fflush(stdout);
      }
    }
  }

  std::printf("\n%-6s %-28s %22s %22s %10s %10s %10s\n", "mode", "binary",
              "cpu us/call med [min-max]", "cpu % core med [min-max]", "idle %", "rss MiB",
              "recorded");
  for (const auto& [key, runs] : results) {
    std::vector<double> us, pct, idle, rss, rec;
    for (const auto& r : runs) {
      us.push_back(r.cpu_us_per_call);
      pct.push_back(r.cpu_percent);
      idle.push_back(r.idle_percent);
      rss.push_back(r.rss_kib / 1024.0);
      rec.push_back(double(r.recorded));
    }
    char a[64], b[64];
    std::snprintf(a, sizeof(a), "%.2f [%.2f-%.2f]", median(us), *std::min_element(us.begin(), us.end()),
                  *std::max_element(us.begin(), us.end()));
    std::snprintf(b, sizeof(b), "%.2f [%.2f-%.2f]", median(pct), *std::min_element(pct.begin(), pct.end()),
                  *std::max_element(pct.begin(), pct.end()));
    std::printf("%-6s %-28s %22s %22s %10.2f %10.1f %10.0f\n", key.first.c_str(),
                short_name(o.binaries[key.second], key.second).c_str(), a, b, median(idle),
                median(rss), median(rec));
  }
  fs::remove_all(dir);
  return 0;
}
