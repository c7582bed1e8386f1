// Policy stage figures (docs/benchmarks.md): compile time and database size of the built-in
// pack, MB/s scanned per core on clean prompts and on match-dense text, and the time the
// engine adds to one call at 4 KiB, 64 KiB and 1 MiB request bodies (p50/p99).
//   build/bench/policy_bench [--clean ../shared/dlp/clean.txt] [--rounds N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "policy/compiled_policy.h"
#include "policy/policy_engine.h"
#include "policy/policy_loader.h"

using Clock = std::chrono::steady_clock;
using namespace llmtap;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Realistic prompts with a fake secret, card and e-mail every ~300 bytes.
std::string dense_text(size_t bytes) {
  static const char* kLines[] = {
      "deploy with aws_access_key_id=AKIA2OGYBAH6RVPSVMXQ to the staging account\n",
      "the token is ghp_R8bQ2xZkLm4NpT7vW9yC3dF6gH1jK5sA0eUi, rotate it later\n",
      "charge card 4111 1111 1111 1111 and mail the receipt to jane.doe@acme-corp.io\n",
      "postgres://app:Tr0ub4dor3xyzzy@db.internal:5432/orders is the primary\n",
      "Please summarise the following meeting notes for the steering committee.\n"};
  std::string out;
  for (size_t i = 0; out.size() < bytes; ++i) out += kLines[i % 5];
  out.resize(bytes);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string clean_path = "../shared/dlp/clean.txt";
  int rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clean")) clean_path = argv[i + 1];
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
  }
  auto start = Clock::now();
  std::vector<policy::PolicyProblem> problems;
  auto compiled = policy::compile_policy(policy::builtin_policy(), {}, problems);
  const double compile_s = seconds_since(start);
  if (!compiled) {
    std::fprintf(stderr, "the built-in policy does not compile\n");
    return 1;
  }
  std::printf(
      "built-in pack: %zu rules, %zu detectors, compiled in %.0f ms, literal database %zu bytes\n",
      compiled->rules.size(), compiled->scanner->detector_count(), compile_s * 1e3,
      compiled->scanner->database_bytes());

  std::ifstream in(clean_path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const std::string clean = text.str();
  if (!clean.empty()) {
    std::vector<std::string_view> prompts;
    size_t s = 0;
    while (s < clean.size()) {
      size_t e = clean.find("\n=== prompt ", s + 1);
      if (e == std::string::npos) e = clean.size();
      prompts.emplace_back(clean.data() + s, e - s);
      s = e;
    }
    std::vector<double> rates;
    for (int r = 0; r < rounds; ++r) {
      start = Clock::now();
      for (const auto p : prompts) compiled->scanner->scan(p);
      rates.push_back(clean.size() / seconds_since(start) / 1e6);
    }
    std::sort(rates.begin(), rates.end());
    std::printf("clean prompts (%zu, %.1f MB): median %.1f MB/s per core (min %.1f, max %.1f)\n",
                prompts.size(), clean.size() / 1e6, rates[rates.size() / 2], rates.front(),
                rates.back());
  }
  const std::string dense = dense_text(2 << 20);
  std::vector<double> rates;
  size_t hits = 0;
  for (int r = 0; r < rounds; ++r) {
    start = Clock::now();
    for (size_t off = 0; off < dense.size(); off += 8192) {
      hits += compiled->scanner->scan(std::string_view(dense).substr(off, 8192)).detections.size();
    }
    rates.push_back(dense.size() / seconds_since(start) / 1e6);
  }
  std::sort(rates.begin(), rates.end());
  std::printf(
      "match-dense text (2 MiB in 8 KiB prompts, %zu detections a round): median %.1f MB/s\n",
      hits / rounds, rates[rates.size() / 2]);

  policy::PolicyEngine engine(compiled);
  // A request of `size` bytes whose prompt is clean text (the corpus, JSON-escaped) or
  // match-dense text.
  auto request = [&](size_t size, bool dense) {
    std::string prompt;
    if (dense) {
      prompt = dense_text(size).substr(0, size - 60);
    } else {
      for (size_t i = 0; prompt.size() < size - 60;
           i = (i + 1) % std::max<size_t>(clean.size(), 1)) {
        const char c = clean.empty() ? 'a' : clean[i];
        if (c == '"' || c == '\\')
          prompt += '\\', prompt += c;
        else if (c == '\n')
          prompt += "\\n";
        else if (static_cast<unsigned char>(c) < 0x20)
          prompt += ' ';
        else
          prompt += c;
      }
    }
    return R"({"model":"gpt-4o","messages":[{"role":"user","content":")" + prompt + "\"}]}";
  };
  for (const bool dense : {false, true})
    for (const size_t size : {size_t{4} << 10, size_t{64} << 10, size_t{1} << 20}) {
      const std::string body = request(size, dense);
      std::vector<double> us;
      for (int i = 0; i < (size > (64u << 10) ? 30 : 300); ++i) {
        llm::LlmCall call;
        call.provider = "openai";
        call.request_model = "gpt-4o";
        call.conn_id = static_cast<uint64_t>(i) + 1;  // a new connection: no dedupe
        start = Clock::now();
        engine.judge(call, body, "");
        us.push_back(seconds_since(start) * 1e6);
      }
      std::sort(us.begin(), us.end());
      std::printf("judge one call, %7zu-byte %s request: p50 %.0f us, p99 %.0f us\n", size,
                  dense ? "match-dense" : "clean", us[us.size() / 2], us[us.size() * 99 / 100]);
    }
  return 0;
}
