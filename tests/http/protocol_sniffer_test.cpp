#include "http/protocol_sniffer.h"

#include <gtest/gtest.h>

#include <string>

#include "http2_frame_builder.h"

namespace llmtap::http {
namespace {

TEST(ProtocolSniffer, RecognisesEachStart) {
  EXPECT_EQ(sniff_protocol("POST /v1 HTTP/1.1\r\n"), SniffedProtocol::kHttp1Request);
  EXPECT_EQ(sniff_protocol("GET "), SniffedProtocol::kHttp1Request);
  EXPECT_EQ(sniff_protocol("HTTP/1.1 200 OK\r\n"), SniffedProtocol::kHttp1Response);
  EXPECT_EQ(sniff_protocol(test::h2_preface()), SniffedProtocol::kHttp2Preface);
  EXPECT_EQ(sniff_protocol(test::h2_settings({{3, 100}, {4, 65535}})),
            SniffedProtocol::kHttp2ServerStart);
}

TEST(ProtocolSniffer, PrefixesWait) {
  for (const std::string& whole : {std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
                                   std::string("HTTP/1.1 200"), std::string("HEAD / HTTP/1.1")}) {
    for (size_t n = 1; n < 5; ++n) {
      EXPECT_EQ(sniff_protocol(whole.substr(0, n)), SniffedProtocol::kNeedMore) << whole << n;
    }
  }
  // A partial preface is not taken for a request line "PRI * ...".
  EXPECT_EQ(sniff_protocol("PRI * HTTP/2.0\r\n"), SniffedProtocol::kNeedMore);
}

TEST(ProtocolSniffer, OtherBytesAreNotHttp) {
  EXPECT_EQ(sniff_protocol("\x16\x03\x01"), SniffedProtocol::kNotHttp);
  EXPECT_EQ(sniff_protocol("get / HTTP/1.1"), SniffedProtocol::kNotHttp);
  EXPECT_EQ(sniff_protocol("{\"json\":1}"), SniffedProtocol::kNotHttp);
  EXPECT_EQ(sniff_protocol(std::string(30, 'A')), SniffedProtocol::kNotHttp);
  EXPECT_EQ(sniff_protocol(std::string("\0\0\0\x01\0\0\0\0\0", 9)), SniffedProtocol::kNotHttp);
}

}  // namespace
}  // namespace llmtap::http
