#include "sink/tls_event_json.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>

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
