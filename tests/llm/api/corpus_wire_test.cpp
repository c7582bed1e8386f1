#include "corpus_wire.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

namespace llmtap::testing {
namespace {

const std::filesystem::path kCorpus = LLMTAP_CORPUS_DIR;

uint32_t be32(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[at + i]);
  return v;
}

uint32_t crc(const std::string& bytes, size_t from, size_t length) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data() + from), static_cast<uInt>(length)));
}

std::string gunzip(const std::string& data) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST(CorpusWire, AwsEventMessageHasCorrectLengthsAndCrcs) {
  const std::string m = encode_aws_event_message({{":event-type", "chunk"}}, R"({"bytes":"e30="})");
  ASSERT_GE(m.size(), 16u);
  EXPECT_EQ(be32(m, 0), m.size());
  const uint32_t headers_length = be32(m, 4);
  EXPECT_EQ(headers_length, 1 + 11 + 1 + 2 + 5u);
  EXPECT_EQ(be32(m, 8), crc(m, 0, 8));
  EXPECT_EQ(be32(m, m.size() - 4), crc(m, 0, m.size() - 4));
  EXPECT_EQ(m.substr(12 + headers_length, m.size() - 16 - headers_length), R"({"bytes":"e30="})");
}

TEST(CorpusWire, ChunkedFraming) {
  EXPECT_EQ(encode_chunked("hello world", 4), "4\r\nhell\r\n4\r\no wo\r\n3\r\nrld\r\n0\r\n\r\n");
  EXPECT_EQ(encode_chunked("", 4), "0\r\n\r\n");
}

TEST(CorpusWire, GzipRoundTrip) {
  EXPECT_EQ(gunzip(encode_content("some body text", "gzip")), "some body text");
  EXPECT_THROW(encode_content("x", "compress"), std::runtime_error);
}

TEST(CorpusWire, Base64) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("h"), "aA==");
  EXPECT_EQ(base64_encode("hi"), "aGk=");
  EXPECT_EQ(base64_encode("hi!"), "aGkh");
}

TEST(CorpusWire, LoadsACaseIntoWireBytes) {
  const CorpusCase c = load_corpus_case(kCorpus / "openai" / "chat_stream_include_usage.json");
  EXPECT_EQ(c.name, "openai/chat_stream_include_usage");
  EXPECT_EQ(c.host, "api.openai.com");
  EXPECT_EQ(c.path, "/v1/chat/completions");
  EXPECT_TRUE(c.request_bytes.starts_with(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"));
  EXPECT_TRUE(c.request_bytes.ends_with("\r\n\r\n" + c.request_body));
  EXPECT_NE(c.request_bytes.find("Content-Length: " + std::to_string(c.request_body.size())),
            std::string::npos);
  EXPECT_TRUE(c.response_bytes.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(c.response_bytes.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_TRUE(c.response_bytes.ends_with("0\r\n\r\n"));
  EXPECT_EQ(c.response_framing, "sse");
  EXPECT_TRUE(c.response_body_unencoded.ends_with("data: [DONE]\n\n"));
  EXPECT_EQ(c.stream_events.back().data, "[DONE]");
  EXPECT_EQ(c.expect.input_tokens, 12u);
  EXPECT_TRUE(c.expect.stream);
}

TEST(CorpusWire, GzipCaseHasEncodedBody) {
  const CorpusCase c = load_corpus_case(kCorpus / "openai" / "chat_cached_gzip.json");
  EXPECT_NE(c.response_bytes.find("Content-Encoding: gzip\r\n"), std::string::npos);
  const size_t body_at = c.response_bytes.find("\r\n\r\n") + 4;
  EXPECT_EQ(gunzip(c.response_bytes.substr(body_at)), c.response_body_unencoded);
}

TEST(CorpusWire, BadFileNamesTheFile) {
  const auto path = std::filesystem::temp_directory_path() / "llmtap_bad_case.json";
  std::ofstream(path) << R"({"request":{}})";
  try {
    load_corpus_case(path);
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("llmtap_bad_case.json"), std::string::npos);
  }
  std::filesystem::remove(path);
}

TEST(CorpusWire, ListsEveryCaseSorted) {
  const auto files = corpus_case_files(kCorpus);
  EXPECT_GE(files.size(), 45u);
  EXPECT_TRUE(std::is_sorted(files.begin(), files.end()));
}

}  // namespace
}  // namespace llmtap::testing
