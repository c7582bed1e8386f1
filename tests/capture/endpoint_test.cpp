#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "capture/tls_call.h"

namespace llmtap::capture {
namespace {

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
