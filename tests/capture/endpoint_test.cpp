#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "capture/tls_call.h"

namespace llmtap::capture {
namespace {

// What to_string wrote before it had its own IPv4 formatter: inet_ntop and std::to_string.
std::string endpoint_text_by_inet_ntop(const Endpoint& e) {
  char text[INET6_ADDRSTRLEN] = {};
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (e.family == AF_INET) {
    inet_ntop(AF_INET, e.addr.data(), text, sizeof(text));
    return std::string(text) + ":" + std::to_string(e.port);
  }
  if (e.family == AF_INET6) {
    if (std::equal(std::begin(kMapped), std::end(kMapped), e.addr.begin())) {
      inet_ntop(AF_INET, e.addr.data() + 12, text, sizeof(text));
      return std::string(text) + ":" + std::to_string(e.port);
    }
    inet_ntop(AF_INET6, e.addr.data(), text, sizeof(text));
    return "[" + std::string(text) + "]:" + std::to_string(e.port);
  }
  return {};
}

TEST(EndpointText, AsInetNtopWroteIt) {
  std::mt19937 rng(7);
  std::vector<Endpoint> endpoints;
  for (const uint8_t octet : {0, 1, 9, 10, 99, 100, 199, 200, 255}) {
    Endpoint e;
    e.family = AF_INET;
    e.addr = {octet, static_cast<uint8_t>(255 - octet), octet, 7};
    e.port = octet;
    endpoints.push_back(e);
  }
  for (int i = 0; i < 2000; ++i) {
    Endpoint e;
    e.family = i % 4 == 0 ? AF_INET6 : i % 4 == 1 ? AF_INET : i % 4 == 2 ? AF_INET6 : 0;
    for (auto& b : e.addr) b = static_cast<uint8_t>(rng());
    if (i % 4 == 2) {  // IPv4-mapped
      std::fill(e.addr.begin(), e.addr.begin() + 10, 0);
      e.addr[10] = e.addr[11] = 0xff;
    }
    if (i % 8 == 0) std::fill(e.addr.begin() + 2, e.addr.begin() + 12, 0);  // "::" runs
    e.port = static_cast<uint16_t>(rng());
    endpoints.push_back(e);
  }
  for (const Endpoint& e : endpoints) {
    const std::string expected = endpoint_text_by_inet_ntop(e);
    EXPECT_EQ(to_string(e), expected);
    std::string appended = "x";
    EXPECT_EQ(append_endpoint_text(appended, e), !expected.empty());
    EXPECT_EQ(appended, "x" + expected);
  }
}

TEST(ParseEndpoint, Ipv4AndIpv6WithAPort) {
  const auto v4 = parse_endpoint("10.1.2.3:443");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->family, AF_INET);
  EXPECT_EQ(v4->port, 443);
  EXPECT_EQ(v4->addr[0], 10);
  EXPECT_EQ(v4->addr[3], 3);
  EXPECT_EQ(v4->addr[4], 0);
  const auto v6 = parse_endpoint("[2001:db8::1]:8443");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->family, AF_INET6);
  EXPECT_EQ(v6->port, 8443);
  EXPECT_EQ(v6->addr[0], 0x20);
  EXPECT_EQ(v6->addr[15], 1);
}

TEST(ParseEndpoint, AnythingElseIsRefused) {
  for (const char* bad :
       {"", "10.1.2.3", "10.1.2.3:", "10.1.2.3:0", "10.1.2.3:65536", "10.1.2.3:44x",
        "api.openai.com:443", "2001:db8::1:443", "[::1]", "[::1]443", "1.2.3.4:123456", ":443"}) {
    EXPECT_FALSE(parse_endpoint(bad)) << bad;
  }
}

}  // namespace
}  // namespace llmtap::capture
