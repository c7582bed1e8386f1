#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "metrics/metric_registry.h"
#include "metrics/metrics_server.h"

namespace llmtap::metrics {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr double kInf = std::numeric_limits<double>::infinity();

// --- A strict reader of the text exposition format 0.0.4 (what Prometheus accepts) ----------

bool valid_name(std::string_view name, bool colon_ok) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (colon_ok && c == ':');
  });
}

// Go's strconv.ParseFloat as Prometheus uses it, for what a writer should emit.
bool valid_value(const std::string& text) {
  if (text == "NaN" || text == "+Inf" || text == "-Inf") return true;
  if (text.empty() || text.find_first_not_of("0123456789+-.e") != std::string::npos) return false;
  char* end = nullptr;
  std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// Problems found in `text`; empty when every family has HELP then TYPE before its samples,
// families appear once, in name order, and every sample line is `name{labels} value`.
std::vector<std::string> exposition_problems(const std::string& text) {
  std::vector<std::string> problems;
  if (!text.empty() && text.back() != '\n') problems.push_back("no final newline");
  std::string family, type, previous_family;
  bool have_help = false;
  std::set<std::string> families_seen, series_seen;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    const auto problem = [&](const std::string& what) { problems.push_back(what + ": " + line); };
    if (line.starts_with("# HELP ")) {
      family = line.substr(7, line.find(' ', 7) - 7);
      if (!valid_name(family, true)) problem("bad family name");
      if (!families_seen.insert(family).second) problem("family repeated");
      if (!previous_family.empty() && family < previous_family) problem("families not sorted");
      previous_family = family;
      have_help = true;
      type.clear();
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      if (!have_help || line.substr(7, family.size() + 1) != family + " ") problem("TYPE w/o HELP");
      type = line.substr(8 + family.size());
      if (type != "counter" && type != "gauge" && type != "histogram") problem("bad type");
      continue;
    }
    if (line.starts_with("#")) continue;
    if (type.empty()) {
      problem("sample before HELP and TYPE");
      continue;
    }
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    const std::string name = line.substr(0, i);
    const bool belongs =
        name == family ||
        (type == "histogram" &&
         (name == family + "_bucket" || name == family + "_sum" || name == family + "_count"));
    if (!belongs) problem("sample of another family");
    std::string labels;
    if (i < line.size() && line[i] == '{') {
      ++i;
      std::set<std::string> names;
      while (i < line.size() && line[i] != '}') {
        const size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          problem("bad label");
          break;
        }
        const std::string label = line.substr(i, eq - i);
        if (!valid_name(label, false) || !names.insert(label).second) problem("bad label name");
        i = eq + 2;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\') {
            if (i + 1 >= line.size() ||
                std::string("\\\"n").find(line[i + 1]) == std::string::npos) {
              problem("bad escape");
            }
            ++i;
          }
          ++i;
        }
        ++i;  // closing quote
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) {
        problem("unterminated labels");
        continue;
      }
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') {
      problem("no space before value");
      continue;
    }
    if (!series_seen.insert(line.substr(0, i)).second) problem("series repeated");
    if (!valid_value(line.substr(i + 1))) problem("bad value");
  }
  return problems;
}

// --- A plain HTTP/1.1 client ------------------------------------------------------------------

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

int connect_to(uint16_t port, bool ipv6 = false, int timeout_seconds = 5) {
  const int fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_storage address{};
  socklen_t length = 0;
  if (ipv6) {
    auto& v6 = reinterpret_cast<sockaddr_in6&>(address);
    v6.sin6_family = AF_INET6;
    v6.sin6_addr = in6addr_loopback;
    v6.sin6_port = htons(port);
    length = sizeof(v6);
  } else {
    auto& v4 = reinterpret_cast<sockaddr_in&>(address);
    v4.sin_family = AF_INET;
    v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    v4.sin_port = htons(port);
    length = sizeof(v4);
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    close(fd);
    return -1;
  }
  timeval timeout{timeout_seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

// Reads until the server closes; false on a receive timeout.
bool read_to_eof(int fd, std::string& out) {
  char buffer[4096];
  while (true) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
    out.append(buffer, static_cast<size_t>(n));
  }
}

std::optional<HttpReply> request(uint16_t port, const std::string& method, const std::string& path,
                                 bool ipv6 = false, int timeout_seconds = 5) {
  const int fd = connect_to(port, ipv6, timeout_seconds);
  if (fd < 0) return std::nullopt;
  const std::string text =
      method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  std::string raw;
  const bool sent =
      send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
  const bool complete = sent && read_to_eof(fd, raw);
  close(fd);
  const size_t head_end = raw.find("\r\n\r\n");
  if (!complete || head_end == std::string::npos || !raw.starts_with("HTTP/1.1 ")) {
    return std::nullopt;
  }
  HttpReply reply;
  reply.status = std::atoi(raw.c_str() + 9);
  size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    const size_t next = raw.find("\r\n", line);
    const std::string header = raw.substr(line, next - line);
    const size_t colon = header.find(':');
    std::string name = header.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    reply.headers[name] = header.substr(header.find_first_not_of(' ', colon + 1));
    line = next + 2;
  }
  reply.body = raw.substr(head_end + 4);
  return reply;
}

std::optional<HttpReply> get(uint16_t port, const std::string& path) {
  return request(port, "GET", path);
}

// --- The registry -----------------------------------------------------------------------------

TEST(MetricRegistry, RendersCountersAndGaugesExactly) {
  MetricRegistry registry;
  Counter& calls = registry.counter("llmtap_llm_calls_total", "LLM calls seen.",
                                    {{"provider", "openai"}, {"model", "gpt-4o"}});
  calls.add(3);
  calls.add();
  registry.counter("llmtap_llm_calls_total", "LLM calls seen.",
                   {{"provider", "anthropic"}, {"model", "claude"}});
  registry.gauge("llmtap_queue_depth", "Records waiting.").set(7);
  registry.gauge("llmtap_hold_fraction", "Fraction held.", {{"stage", "policy"}}).set(0.25);
  EXPECT_EQ(registry.render(),
            "# HELP llmtap_hold_fraction Fraction held.\n"
            "# TYPE llmtap_hold_fraction gauge\n"
            "llmtap_hold_fraction{stage=\"policy\"} 0.25\n"
            "# HELP llmtap_llm_calls_total LLM calls seen.\n"
            "# TYPE llmtap_llm_calls_total counter\n"
            "llmtap_llm_calls_total{model=\"claude\",provider=\"anthropic\"} 0\n"
            "llmtap_llm_calls_total{model=\"gpt-4o\",provider=\"openai\"} 4\n"
            "# HELP llmtap_queue_depth Records waiting.\n"
            "# TYPE llmtap_queue_depth gauge\n"
            "llmtap_queue_depth 7\n");
  EXPECT_EQ(calls.value(), 4u);
}

TEST(MetricRegistry, LabelOrderDoesNotMatter) {
  MetricRegistry registry;
  Counter& a = registry.counter("x_total", "h", {{"a", "1"}, {"b", "2"}});
  Counter& b = registry.counter("x_total", "h", {{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(&a, &b);
}

TEST(MetricRegistry, EscapesLabelValuesAndHelp) {
  MetricRegistry registry;
  registry.counter("x_total", "A \\ backslash, a \"quote\"\nand a newline.",
                   {{"path", "C:\\dir \"q\"\nnext"}});
  const std::string text = registry.render();
  EXPECT_EQ(text,
            "# HELP x_total A \\\\ backslash, a \"quote\"\\nand a newline.\n"
            "# TYPE x_total counter\n"
            "x_total{path=\"C:\\\\dir \\\"q\\\"\\nnext\"} 0\n");
  EXPECT_TRUE(exposition_problems(text).empty());
}

TEST(MetricRegistry, CleansLabelValuesFromTraffic) {
  MetricRegistry registry;
  registry
      .gauge("g", "h",
             {{"model",
               "bad\xff"
               "byte"}})
      .set(1);
  registry.gauge("g", "h", {{"model", std::string(1000, 'm')}}).set(2);
  const std::string text = registry.render();
  EXPECT_NE(text.find("g{model=\"bad\xEF\xBF\xBD"
                      "byte\"} 1\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("g{model=\"" + std::string(MetricRegistry::kMaxLabelValueBytes, 'm') + "\"} 2\n"),
      std::string::npos);
  // A cut never splits a UTF-8 character.
  MetricRegistry other;
  std::string euros;
  for (int i = 0; i < 100; ++i) euros += "\xE2\x82\xAC";  // 300 bytes
  other.gauge("g", "h", {{"v", euros}});
  EXPECT_NE(other.render().find("g{v=\"" + euros.substr(0, 255) + "\"} 0\n"), std::string::npos);
}

TEST(MetricRegistry, RendersHistogramsExactly) {
  MetricRegistry registry;
  const double bounds[] = {0.25, 1, 2.5};
  Histogram& h = registry.histogram("llmtap_hold_seconds", "Time a request was held.",
                                    {{"action", "block"}}, bounds);
  h.observe(milliseconds(250));  // on a bound: counted in that bucket (le)
  h.observe(0.5);
  h.observe(0.75);
  h.observe(4.0);
  h.observe(std::nan(""));  // ignored
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(registry.render(),
            "# HELP llmtap_hold_seconds Time a request was held.\n"
            "# TYPE llmtap_hold_seconds histogram\n"
            "llmtap_hold_seconds_bucket{action=\"block\",le=\"0.25\"} 1\n"
            "llmtap_hold_seconds_bucket{action=\"block\",le=\"1\"} 3\n"
            "llmtap_hold_seconds_bucket{action=\"block\",le=\"2.5\"} 3\n"
            "llmtap_hold_seconds_bucket{action=\"block\",le=\"+Inf\"} 4\n"
            "llmtap_hold_seconds_sum{action=\"block\"} 5.5\n"
            "llmtap_hold_seconds_count{action=\"block\"} 4\n");
}

TEST(MetricRegistry, HistogramWithoutLabelsAndDefaultBuckets) {
  MetricRegistry registry;
  registry.histogram("llmtap_sink_latency_seconds", "Sink latency.").observe(0.003);
  const std::string text = registry.render();
  EXPECT_NE(text.find("llmtap_sink_latency_seconds_bucket{le=\"0.0001\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("llmtap_sink_latency_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("llmtap_sink_latency_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("llmtap_sink_latency_seconds_sum 0.003\n"), std::string::npos);
  EXPECT_NE(text.find("llmtap_sink_latency_seconds_count 1\n"), std::string::npos);
  EXPECT_TRUE(exposition_problems(text).empty());
}

TEST(MetricRegistry, FormatsNumbersAsPrometheusParsesThem) {
  MetricRegistry registry;
  const std::pair<double, std::string> cases[] = {{0, "0"},
                                                  {-2, "-2"},
                                                  {123456789012.0, "123456789012"},
                                                  {1e20, "1e+20"},
                                                  {4e18, "4000000000000000000"},
                                                  {0.0001, "0.0001"},
                                                  {1e-5, "1e-05"},
                                                  {1234567.5, "1.2345675e+06"},
                                                  {0.1, "0.1"},
                                                  {1e-7, "1e-07"},
                                                  {-0.5, "-0.5"},
                                                  {std::nan(""), "NaN"},
                                                  {kInf, "+Inf"},
                                                  {-kInf, "-Inf"}};
  int i = 0;
  for (const auto& [value, text] : cases) {
    registry.gauge("g", "h", {{"i", std::to_string(i++)}}).set(value);
  }
  registry.counter("c_total", "h").add(18446744073709551615ull);
  const std::string text = registry.render();
  i = 0;
  for (const auto& [value, expected] : cases) {
    EXPECT_NE(text.find("g{i=\"" + std::to_string(i++) + "\"} " + expected + "\n"),
              std::string::npos)
        << expected;
  }
  EXPECT_NE(text.find("c_total 18446744073709551615\n"), std::string::npos);
  EXPECT_TRUE(exposition_problems(text).empty()) << text;
}

TEST(MetricRegistry, GaugeFunctionsAreReadAtScrapeTime) {
  MetricRegistry registry;
  std::atomic<int> depth{3};
  registry.gauge_fn("llmtap_queue_depth", "Records waiting.", {{"queue", "sink"}},
                    [&] { return static_cast<double>(depth.load()); });
  registry.gauge_fn("llmtap_queue_depth", "Records waiting.", {{"queue", "broken"}},
                    []() -> double { throw std::runtime_error("gone"); });
  EXPECT_NE(registry.render().find("llmtap_queue_depth{queue=\"sink\"} 3\n"), std::string::npos);
  depth = 9;
  const std::string text = registry.render();
  EXPECT_NE(text.find("llmtap_queue_depth{queue=\"sink\"} 9\n"), std::string::npos);
  EXPECT_NE(text.find("llmtap_queue_depth{queue=\"broken\"} NaN\n"), std::string::npos);
  // Registering the series again replaces its function.
  registry.gauge_fn("llmtap_queue_depth", "Records waiting.", {{"queue", "sink"}},
                    [] { return 1.5; });
  EXPECT_NE(registry.render().find("llmtap_queue_depth{queue=\"sink\"} 1.5\n"), std::string::npos);
  EXPECT_THROW(registry.gauge_fn("llmtap_x", "h", {}, nullptr), std::invalid_argument);
}

TEST(MetricRegistry, SeriesBeyondTheBoundFoldIntoOther) {
  MetricRegistry registry(3);
  const auto calls = [&](const std::string& model) -> Counter& {
    return registry.counter("llmtap_llm_calls_total", "LLM calls.",
                            {{"provider", "openai"}, {"model", model}});
  };
  Counter& first = calls("m1");
  calls("m2");
  calls("m3");
  Counter& folded = calls("random-1");
  EXPECT_EQ(&calls("random-2"), &folded);
  EXPECT_EQ(&calls("m1"), &first);  // known label sets still get their own series
  folded.add(5);
  first.add();
  const std::string text = registry.render();
  EXPECT_EQ(text,
            "# HELP llmtap_llm_calls_total LLM calls.\n"
            "# TYPE llmtap_llm_calls_total counter\n"
            "llmtap_llm_calls_total{model=\"m1\",provider=\"openai\"} 1\n"
            "llmtap_llm_calls_total{model=\"m2\",provider=\"openai\"} 0\n"
            "llmtap_llm_calls_total{model=\"m3\",provider=\"openai\"} 0\n"
            "llmtap_llm_calls_total{model=\"other\",provider=\"other\"} 5\n"
            "# HELP llmtap_metrics_series_dropped_total Label sets folded into the \"other\" "
            "series because their metric reached its series bound.\n"
            "# TYPE llmtap_metrics_series_dropped_total counter\n"
            "llmtap_metrics_series_dropped_total{metric=\"llmtap_llm_calls_total\"} 2\n");
  EXPECT_TRUE(exposition_problems(text).empty());
}

TEST(MetricRegistry, SeriesBoundHoldsUnderManyLabelSets) {
  MetricRegistry registry;  // the default bound
  for (int i = 0; i < 5000; ++i) {
    registry.histogram("llmtap_call_seconds", "h", {{"model", "random-" + std::to_string(i)}})
        .observe(0.01);
  }
  const std::string text = registry.render();
  EXPECT_EQ(
      std::count(text.begin(), text.end(), '\n'),
      2 + (MetricRegistry::kDefaultMaxSeriesPerFamily + 1) * (kDurationBucketsSeconds.size() + 3) +
          3);
  EXPECT_NE(text.find("llmtap_call_seconds_count{model=\"other\"} 3000\n"), std::string::npos);
  EXPECT_NE(text.find("llmtap_metrics_series_dropped_total{metric=\"llmtap_call_seconds\"} 3000\n"),
            std::string::npos);
}

TEST(MetricRegistry, ConcurrentAddsSumExactly) {
  MetricRegistry registry;
  constexpr int kThreads = 4;
  constexpr int kAdds = 200000;
  std::atomic<bool> done{false};
  std::thread scraper([&] {  // scrapes and series creation race the adds
    while (!done) EXPECT_TRUE(exposition_problems(registry.render()).empty());
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter& c = registry.counter("llmtap_events_total", "h", {{"kind", "call"}});
      Gauge& g = registry.gauge("llmtap_level", "h");
      Histogram& h = registry.histogram("llmtap_seconds", "h");
      for (int i = 0; i < kAdds; ++i) {
        c.add();
        g.add(1);
        h.observe(0.001);
        if (i % 1000 == 0)
          registry.counter("llmtap_per_thread_total", "h", {{"i", std::to_string(t * kAdds + i)}});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  done = true;
  scraper.join();
  EXPECT_EQ(registry.counter("llmtap_events_total", "h", {{"kind", "call"}}).value(),
            uint64_t{kThreads} * kAdds);
  EXPECT_EQ(registry.gauge("llmtap_level", "h").value(), double{kThreads} * kAdds);
  EXPECT_EQ(registry.histogram("llmtap_seconds", "h").count(), uint64_t{kThreads} * kAdds);
}

TEST(MetricRegistry, BadNamesThrow) {
  MetricRegistry registry;
  EXPECT_THROW(registry.counter("", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("1abc_total", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("a-b_total", "h"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("a b", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("llmtap_calls", "h"), std::invalid_argument);  // not _total
  EXPECT_THROW(registry.counter("x_total", "h", {{"__reserved", "v"}}), std::invalid_argument);
  EXPECT_THROW(registry.counter("x_total", "h", {{"1a", "v"}}), std::invalid_argument);
  EXPECT_THROW(registry.counter("x_total", "h", {{"a:b", "v"}}), std::invalid_argument);
  EXPECT_THROW(registry.counter("x_total", "h", {{"", "v"}}), std::invalid_argument);
  EXPECT_THROW(registry.counter("x_total", "h", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h_seconds", "h", {{"le", "1"}}), std::invalid_argument);
  const double unsorted[] = {1, 0.5};
  const double infinite[] = {1, kInf};
  EXPECT_THROW(registry.histogram("h_seconds", "h", {}, unsorted), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h_seconds", "h", {}, infinite), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h_seconds", "h", {}, std::span<const double>()),
               std::invalid_argument);
  EXPECT_THROW(registry.counter("llmtap_metrics_series_dropped_total", "h"),
               std::invalid_argument);  // the registry's own
  EXPECT_NO_THROW(registry.gauge("ns:colons_ok", "h"));
  EXPECT_NO_THROW(registry.gauge("_x", "h", {{"_y", ""}}));
  // A name reused inconsistently is a programming error too.
  registry.counter("y_total", "help", {{"a", "1"}});
  EXPECT_THROW(registry.gauge("y_total", "help", {{"a", "1"}}), std::invalid_argument);
  EXPECT_THROW(registry.counter("y_total", "other help", {{"a", "1"}}), std::invalid_argument);
  EXPECT_THROW(registry.counter("y_total", "help", {{"b", "1"}}), std::invalid_argument);
  EXPECT_THROW(registry.gauge_fn("y_total", "help", {{"a", "1"}}, [] { return 0.0; }),
               std::invalid_argument);
  registry.histogram("z_seconds", "h");
  const double other_buckets[] = {1, 2};
  EXPECT_THROW(registry.histogram("z_seconds", "h", {}, other_buckets), std::invalid_argument);
  EXPECT_THROW(registry.gauge("z_seconds_count", "h"), std::invalid_argument);
  registry.gauge("w_sum", "h");
  EXPECT_THROW(registry.histogram("w", "h"), std::invalid_argument);
  EXPECT_TRUE(exposition_problems(registry.render()).empty());
}

TEST(MetricRegistry, EmptyRegistryRendersNothing) { EXPECT_EQ(MetricRegistry().render(), ""); }

TEST(ExpositionChecker, RejectsMalformedText) {  // the checker itself must catch mistakes
  EXPECT_FALSE(exposition_problems("x 1\n").empty());
  EXPECT_FALSE(exposition_problems("# HELP x h\n# TYPE x gauge\nx{a=\"b} 1\n").empty());
  EXPECT_FALSE(exposition_problems("# HELP x h\n# TYPE x gauge\nx 1e\n").empty());
  EXPECT_FALSE(exposition_problems("# HELP x h\n# TYPE x gauge\ny 1\n").empty());
  EXPECT_FALSE(exposition_problems("# HELP y h\n# TYPE y gauge\ny 1\n# HELP x h\n").empty());
  EXPECT_FALSE(exposition_problems("# HELP x h\n# TYPE x gauge\nx{a=\"\\t\"} 1\n").empty());
  EXPECT_TRUE(exposition_problems("# HELP x h\n# TYPE x gauge\nx{a=\"\\\"\"} -Inf\n").empty());
}

// --- The server -------------------------------------------------------------------------------

MetricsServerOptions options_for(std::string address) {
  MetricsServerOptions options;
  options.address = std::move(address);
  return options;
}

TEST(MetricsServer, ServesMetricsHealthAndReadiness) {
  MetricRegistry registry;
  registry.counter("llmtap_llm_calls_total", "LLM calls.", {{"model", "gpt-4o"}}).add(2);
  registry.histogram("llmtap_hold_seconds", "Holds.").observe(0.02);
  std::atomic<bool> ready{true};
  MetricsServerOptions options = options_for("127.0.0.1:0");
  options.readiness = [&]() -> std::pair<bool, std::string> {
    if (ready) return {true, ""};
    return {false, "policy not loaded"};
  };
  MetricsServer server(registry, options);
  server.start();
  ASSERT_NE(server.port(), 0);

  const auto metrics = get(server.port(), "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(metrics->body, registry.render());
  EXPECT_TRUE(exposition_problems(metrics->body).empty());
  const auto with_query = get(server.port(), "/metrics?name[]=x");
  ASSERT_TRUE(with_query);
  EXPECT_EQ(with_query->status, 200);

  const auto health = get(server.port(), "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok");

  auto readiness = get(server.port(), "/readyz");
  ASSERT_TRUE(readiness);
  EXPECT_EQ(readiness->status, 200);
  EXPECT_EQ(readiness->body, "ok");
  ready = false;
  readiness = get(server.port(), "/readyz");
  ASSERT_TRUE(readiness);
  EXPECT_EQ(readiness->status, 503);
  EXPECT_EQ(readiness->body, "policy not loaded");
  ready = true;
  EXPECT_EQ(get(server.port(), "/readyz")->status, 200);

  const auto missing = get(server.port(), "/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  const auto post = request(server.port(), "POST", "/metrics");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->headers.at("allow"), "GET, HEAD");
  EXPECT_EQ(request(server.port(), "DELETE", "/healthz")->status, 405);
  const auto head = request(server.port(), "HEAD", "/healthz");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
}

TEST(MetricsServer, NoReadinessCheckMeansReady) {
  MetricRegistry registry;
  MetricsServer server(registry, options_for("127.0.0.1:0"));
  server.start();
  EXPECT_EQ(get(server.port(), "/readyz")->status, 200);
}

TEST(MetricsServer, ReadinessCheckThatThrowsIs500) {
  MetricRegistry registry;
  MetricsServerOptions options = options_for("127.0.0.1:0");
  options.readiness = []() -> std::pair<bool, std::string> { throw std::runtime_error("boom"); };
  MetricsServer server(registry, options);
  server.start();
  const auto reply = get(server.port(), "/readyz");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(get(server.port(), "/healthz")->status, 200);  // the server lives on
}

TEST(MetricsServer, AddressInUseIsAClearError) {
  MetricRegistry registry;
  MetricsServer first(registry, options_for("127.0.0.1:0"));
  first.start();
  const std::string taken = "127.0.0.1:" + std::to_string(first.port());
  MetricsServer second(registry, options_for(taken));
  try {
    second.start();
    FAIL() << "second server started on " << taken;
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "metrics address " + taken + " is in use: choose another with --metrics-address");
  }
  // Every interface includes 127.0.0.1, so it is in use too.
  MetricsServer every(registry, options_for(":" + std::to_string(first.port())));
  EXPECT_THROW(every.start(), std::runtime_error);
  EXPECT_EQ(get(first.port(), "/healthz")->status, 200);
}

TEST(MetricsServer, MalformedAddressesAreClearErrors) {
  MetricRegistry registry;
  for (const char* address : {"9464", "", "localhost:9464", "127.0.0.1:99999", "127.0.0.1:",
                              "[::1:9464", "::1:9464", "1.2.3:9464", "127.0.0.1:94x"}) {
    MetricsServer server(registry, options_for(address));
    try {
      server.start();
      ADD_FAILURE() << "started on " << address;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), "metrics address " + std::string(address) +
                                           " is not HOST:PORT (for example :9464, "
                                           "127.0.0.1:9464 or [::1]:9464)");
    }
  }
}

TEST(MetricsServer, ListensOnEveryInterface) {
  MetricRegistry registry;
  MetricsServer server(registry, options_for(":0"));
  server.start();
  ASSERT_NE(server.port(), 0);
  EXPECT_EQ(get(server.port(), "/healthz")->status, 200);
  const int probe = socket(AF_INET6, SOCK_STREAM, 0);
  if (probe >= 0) {  // a dual-stack socket answers IPv6 too
    close(probe);
    const auto v6 = request(server.port(), "GET", "/healthz", true);
    if (v6) {
      EXPECT_EQ(v6->status, 200);
    }
  }
}

TEST(MetricsServer, ListensOnIpv6Loopback) {
  MetricRegistry registry;
  MetricsServer server(registry, options_for("[::1]:0"));
  try {
    server.start();
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  const auto reply = request(server.port(), "GET", "/healthz", true);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(connect_to(server.port()), -1);  // not on IPv4
}

TEST(MetricsServer, SlowClientDoesNotHoldTheServer) {
  MetricRegistry registry;
  MetricsServer server(registry, options_for("127.0.0.1:0"));
  server.start();
  const int slow = connect_to(server.port());
  ASSERT_GE(slow, 0);
  const std::string partial = "GET /metrics HTTP/1.1\r\nHost: x\r\n";  // never finished
  ASSERT_EQ(send(slow, partial.data(), partial.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(partial.size()));
  const auto started = steady_clock::now();
  EXPECT_EQ(get(server.port(), "/healthz")->status, 200);
  EXPECT_LT(steady_clock::now() - started, milliseconds(1000));
  close(slow);
}

TEST(MetricsServer, IdleConnectionsTimeOut) {
  MetricRegistry registry;
  MetricsServerOptions options = options_for("127.0.0.1:0");
  options.connection_timeout = std::chrono::seconds(1);
  MetricsServer server(registry, options);
  server.start();
  const int idle = connect_to(server.port());
  ASSERT_GE(idle, 0);
  const auto started = steady_clock::now();
  std::string ignored;
  EXPECT_TRUE(read_to_eof(idle, ignored));  // the server closes it
  EXPECT_LT(steady_clock::now() - started, milliseconds(4000));
  close(idle);
}

TEST(MetricsServer, ConnectionsAreBounded) {
  MetricRegistry registry;
  MetricsServerOptions options = options_for("127.0.0.1:0");
  options.max_connections = 2;
  MetricsServer server(registry, options);
  server.start();
  std::vector<int> held;
  for (int i = 0; i < 2; ++i) held.push_back(connect_to(server.port()));
  std::this_thread::sleep_for(milliseconds(500));  // let the server accept both
  // A third waits in the kernel's backlog (or is closed): either way it gets no answer.
  const auto refused = request(server.port(), "GET", "/healthz", false, 1);
  EXPECT_FALSE(refused && refused->status == 200);
  close(held.back());
  held.pop_back();
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(get(server.port(), "/healthz")->status, 200);
  for (const int fd : held) close(fd);
}

TEST(MetricsServer, StopIsPromptWithClientsConnected) {
  MetricRegistry registry;
  MetricsServer server(registry, options_for("127.0.0.1:0"));
  server.start();
  const uint16_t port = server.port();
  const int idle = connect_to(port);
  ASSERT_GE(idle, 0);
  std::this_thread::sleep_for(milliseconds(100));
  const auto started = steady_clock::now();
  server.stop();
  EXPECT_LT(steady_clock::now() - started, milliseconds(500));
  std::string ignored;
  EXPECT_TRUE(read_to_eof(idle, ignored));  // its connection was closed
  close(idle);
  EXPECT_EQ(connect_to(port), -1);  // and the listener is gone
  server.stop();                    // idempotent
  // The port is free again for a restart.
  MetricsServer again(registry, options_for("127.0.0.1:" + std::to_string(port)));
  EXPECT_NO_THROW(again.start());
}

TEST(MetricsServer, DestroyedWithoutStartOrStop) {
  MetricRegistry registry;
  { MetricsServer never_started(registry, options_for("127.0.0.1:0")); }
  {
    MetricsServer running(registry, options_for("127.0.0.1:0"));
    running.start();
  }
  SUCCEED();
}

}  // namespace
}  // namespace llmtap::metrics
