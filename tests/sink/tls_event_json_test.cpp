#include "sink/tls_event_json.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <iterator>
#include <nlohmann/json.hpp>
#include <random>

#include "sink/json_text.h"

namespace llmtap::sink {
namespace {

capture::TlsCall sample_call() {
  capture::TlsCall call;
  call.mono_ns = 5;
  call.pid = 100;
  call.tid = 101;
  call.uid = 1000;
  call.comm = "python3";
  call.cgroup_id = 77;
  call.ssl = 0xdeadbeef;
  call.fd = 3;
  call.call_len = 5;
  call.direction = capture::Direction::kWrite;
  call.lib = capture::TlsLib::kOpenSsl;
  call.local.family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", call.local.addr.data());
  call.local.port = 40000;
  call.remote.family = AF_INET6;
  inet_pton(AF_INET6, "::1", call.remote.addr.data());
  call.remote.port = 443;
  call.data = "hello";
  return call;
}

TEST(TlsEventJson, HasTheContractFields) {
  std::string line;
  append_tls_event_json(sample_call(), 1700000000000000000ULL, line);
  ASSERT_EQ(line.back(), '\n');
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["type"], "tls");
  EXPECT_EQ(j["time_ns"], 1700000000000000000ULL);
  EXPECT_EQ(j["pid"], 100);
  EXPECT_EQ(j["tid"], 101);
  EXPECT_EQ(j["uid"], 1000);
  EXPECT_EQ(j["comm"], "python3");
  EXPECT_EQ(j["cgroup_id"], 77);
  EXPECT_EQ(j["direction"], "write");
  EXPECT_EQ(j["conn"]["ssl"], "0xdeadbeef");
  EXPECT_EQ(j["conn"]["fd"], 3);
  EXPECT_EQ(j["conn"]["src"], "127.0.0.1:40000");
  EXPECT_EQ(j["conn"]["dst"], "[::1]:443");
  EXPECT_EQ(j["len"], 5);
  EXPECT_EQ(j["truncated"], false);
  EXPECT_EQ(j["data"], "aGVsbG8=");
}

// The event as it was written with fmt, to compare the hand-written one against.
std::string event_by_fmt(const capture::TlsCall& call, uint64_t time_ns) {
  std::string out;
  auto endpoint = [&](const capture::Endpoint& e) {
    const std::string text = capture::to_string(e);
    if (text.empty()) {
      out += "null";
    } else {
      append_json_string(out, text);
    }
  };
  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 R"({{"type":"tls","time_ns":{},"mono_ns":{},"pid":{},"tid":{},"uid":{},"comm":)",
                 time_ns, call.mono_ns, call.pid, call.tid, call.uid);
  append_json_string(out, call.comm);
  fmt::format_to(
      it, R"(,"cgroup_id":{},"lib":"{}","direction":"{}","conn":{{"id":{},"ssl":"0x{:x}","fd":{},"src":)",
      call.cgroup_id, capture::to_string(call.lib), capture::to_string(call.direction),
      call.conn_id, call.ssl, call.fd);
  endpoint(call.local);
  out += R"(,"dst":)";
  endpoint(call.remote);
  fmt::format_to(it, R"(}},"len":{},"truncated":{},"lost":{},)", call.call_len,
                 call.truncated ? "true" : "false", call.lost_len);
  if (call.gap_before) out += R"("gap_before":true,)";
  out += R"("data":")";
  append_base64(out, call.data);
  out += "\"}\n";
  return out;
}

TEST(TlsEventJson, SameBytesAsTheFmtWriter) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 500; ++round) {
    capture::TlsCall call = sample_call();
    call.mono_ns = rng();
    call.pid = static_cast<uint32_t>(rng());
    call.tid = static_cast<uint32_t>(rng());
    call.uid = round % 2 ? 0 : static_cast<uint32_t>(rng());
    call.cgroup_id = rng() >> (round % 64);
    call.ssl = rng() >> (round % 64);
    call.conn_id = round % 3 ? rng() : 0;
    call.fd = round % 5 == 0 ? -1 : static_cast<int32_t>(rng() % 100000);
    call.call_len = static_cast<uint32_t>(rng());
    call.lost_len = round % 4 ? 0 : static_cast<uint32_t>(rng());
    call.truncated = round % 2;
    call.gap_before = round % 3 == 0;
    call.direction = round % 2 ? capture::Direction::kRead : capture::Direction::kWrite;
    call.lib = static_cast<capture::TlsLib>(round % 3);
    // Plain names (written whole) and names with bytes to escape or too long for that.
    const std::string comms[] = {"curl",  "we\"ird\n\xff", std::string(64, 'n'),
                                 std::string(65, 'n'), "back\\slash", "del\x7f",
                                 "",      "tab\there",      "~ !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}"};
    call.comm = comms[round % std::size(comms)];
    if (round % 5 == 1) {
      call.remote.family = AF_INET6;
      for (auto& b : call.remote.addr) b = static_cast<uint8_t>(rng() % 3 == 0 ? rng() : 0);
    }
    if (round % 4 == 0) call.local = {};
    if (round % 6 == 0) call.remote = {};
    std::string data(rng() % 100, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    call.data = data;
    const uint64_t time_ns = rng();
    std::string line = "previous line\n";
    append_tls_event_json(call, time_ns, line);
    ASSERT_EQ(line, "previous line\n" + event_by_fmt(call, time_ns)) << round;
  }
}

TEST(TlsEventJson, UnknownEndpointsAreNull) {
  auto call = sample_call();
  call.local = {};
  call.remote = {};
  call.fd = -1;
  std::string line;
  append_tls_event_json(call, 1, line);
  const auto j = nlohmann::json::parse(line);
  EXPECT_TRUE(j["conn"]["src"].is_null());
  EXPECT_TRUE(j["conn"]["dst"].is_null());
  EXPECT_EQ(j["conn"]["fd"], -1);
}

TEST(TlsEventJson, MappedIpv4IsShownAsIpv4) {
  auto call = sample_call();
  inet_pton(AF_INET6, "::ffff:10.1.2.3", call.remote.addr.data());
  std::string line;
  append_tls_event_json(call, 1, line);
  EXPECT_EQ(nlohmann::json::parse(line)["conn"]["dst"], "10.1.2.3:443");
}

TEST(TlsEventJson, HostileCommStaysValidJson) {
  auto call = sample_call();
  call.comm = std::string("a\"\\\n\xff", 5);
  std::string line;
  append_tls_event_json(call, 1, line);
  EXPECT_TRUE(nlohmann::json::accept(line));
}

}  // namespace
}  // namespace llmtap::sink
