#include "tls_test_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "fake_llm_api.h"
#include "openssl_handles.h"

namespace llmtap::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kWait = 5s;

struct ClientResponse {
  int status = 0;
  std::string head;
  std::string body;
};

UniqueFd connect_tcp(const std::string& host, uint16_t port) {
  sockaddr_storage address{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof(*v4);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof(*v6);
  } else {
    throw std::runtime_error("not a numeric address: " + host);
  }
  UniqueFd fd(::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) {
    throw std::runtime_error("cannot connect to " + host + ":" + std::to_string(port));
  }
  return fd;
}

// Minimal blocking TLS client that keeps its own record of every plaintext byte it wrote and
// read, to compare against the server's.
class RecordingClient {
 public:
  explicit RecordingClient(uint16_t port, const std::string& host = "127.0.0.1")
      : fd_(connect_tcp(host, port)), ctx_(SSL_CTX_new(TLS_client_method())) {
    if (!ctx_) throw_openssl_error("SSL_CTX_new");
    ssl_.reset(SSL_new(ctx_.get()));
    if (!ssl_ || SSL_set_fd(ssl_.get(), fd_.get()) != 1 || SSL_connect(ssl_.get()) != 1) {
      throw_openssl_error("TLS handshake with test server");
    }
  }

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      size_t written = 0;
      if (SSL_write_ex(ssl_.get(), bytes.data(), bytes.size(), &written) != 1) {
        throw_openssl_error("SSL_write");
      }
      sent_.append(bytes.substr(0, written));
      bytes.remove_prefix(written);
    }
  }

  // Reads one Content-Length framed response.
  ClientResponse read_response() {
    size_t head_end;
    while ((head_end = pending_.find("\r\n\r\n")) == std::string::npos) read_more();
    ClientResponse response;
    response.head = pending_.substr(0, head_end + 4);
    response.status = std::stoi(response.head.substr(9, 3));
    const size_t length_at = response.head.find("Content-Length: ");
    if (length_at == std::string::npos) throw std::runtime_error("no Content-Length");
    const size_t length = std::stoul(response.head.substr(length_at + 16));
    while (pending_.size() < head_end + 4 + length) read_more();
    response.body = pending_.substr(head_end + 4, length);
    pending_.erase(0, head_end + 4 + length);
    return response;
  }

  // True when the server ended the TLS session (close_notify or EOF) without more data.
  bool at_eof() {
    char byte;
    size_t n = 0;
    return SSL_read_ex(ssl_.get(), &byte, 1, &n) != 1;
  }

  void close() {
    SSL_shutdown(ssl_.get());
    fd_.reset();
  }

  const std::string& sent() const { return sent_; }
  const std::string& received() const { return received_; }

 private:
  void read_more() {
    char buffer[16384];
    size_t n = 0;
    if (SSL_read_ex(ssl_.get(), buffer, sizeof(buffer), &n) != 1) {
      throw std::runtime_error("connection ended before a complete response");
    }
    received_.append(buffer, n);
    pending_.append(buffer, n);
  }

  UniqueFd fd_;
  SslCtxPtr ctx_;
  SslPtr ssl_;
  std::string sent_;
  std::string received_;
  std::string pending_;
};

std::string post(std::string_view body, std::string_view extra_headers = "") {
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
         "Content-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + std::string(extra_headers) + "\r\n" +
         std::string(body);
}

class TlsTestServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern = ::testing::TempDir() + "llmtap-tls-server-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = new std::filesystem::path(pattern);
    write_self_signed_certificate(cert_file(), key_file());
  }

  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }

  static std::string cert_file() { return (*dir_ / "cert.pem").string(); }
  static std::string key_file() { return (*dir_ / "key.pem").string(); }
  static TlsTestServerOptions options(std::string bind = "127.0.0.1") {
    return {.bind_address = std::move(bind),
            .port = 0,
            .cert_file = cert_file(),
            .key_file = key_file(),
            .responder = {}};
  }

  static void expect_records_match(const TlsTestServer& server, const RecordingClient& client) {
    ASSERT_TRUE(server.wait_for_closed_connections(1, kWait));
    const auto records = server.connections();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_TRUE(records[0].closed);
    EXPECT_TRUE(records[0].received == client.sent()) << "server received != client sent";
    EXPECT_TRUE(records[0].sent == client.received()) << "server sent != client received";
  }

  static inline std::filesystem::path* dir_ = nullptr;
};

TEST_F(TlsTestServerTest, KeepAlivePostsAreRecordedByteExact) {
  TlsTestServer server(options());
  RecordingClient client(server.port());
  client.send(post(R"({"model":"gpt-4o-mini","messages":[]})"));
  EXPECT_EQ(client.read_response().status, 200);
  client.send(post(std::string(3000, 'b'), "x-response-bytes: 100000\r\n"));
  const ClientResponse big = client.read_response();
  EXPECT_EQ(big.status, 200);
  EXPECT_EQ(big.body.size(), 100000u);
  client.send(post("{}"));
  const ClientResponse last = client.read_response();
  EXPECT_EQ(last.body, chat_completion_body(0));
  EXPECT_NE(last.head.find("Content-Type: application/json\r\n"), std::string::npos);
  client.close();

  expect_records_match(server, client);
  const auto record = server.connections().at(0);
  EXPECT_EQ(record.peer_address, "127.0.0.1");
  EXPECT_NE(record.peer_port, 0);
}

TEST_F(TlsTestServerTest, PipelinedRequestsAreAnsweredInOrder) {
  TlsTestServer server(options());
  RecordingClient client(server.port());
  client.send(post("1", "x-response-bytes: 300\r\n") + post("2", "x-response-bytes: 400\r\n") +
              "GET /v1/models HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_EQ(client.read_response().body.size(), 300u);
  EXPECT_EQ(client.read_response().body.size(), 400u);
  EXPECT_NE(client.read_response().body.find(R"("object":"list")"), std::string::npos);
  client.close();
  expect_records_match(server, client);
}

TEST_F(TlsTestServerTest, AcceptsChunkedRequestBodies) {
  TlsTestServer server(options());
  RecordingClient client(server.port());
  client.send(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
      "\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 200);
  client.close();
  expect_records_match(server, client);
}

TEST_F(TlsTestServerTest, ConnectionCloseEndsConnectionAfterResponse) {
  TlsTestServer server(options());
  RecordingClient client(server.port());
  client.send(post("{}", "Connection: close\r\n"));
  const ClientResponse response = client.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.head.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(client.at_eof());
  expect_records_match(server, client);
}

TEST_F(TlsTestServerTest, MalformedRequestGets400AndClose) {
  TlsTestServer server(options());
  RecordingClient client(server.port());
  client.send("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 400);
  EXPECT_TRUE(client.at_eof());
  expect_records_match(server, client);
}

TEST_F(TlsTestServerTest, ManyKeepAliveRequestsShareOneConnection) {
  TlsTestServer server(options());
  RecordingClient client(server.port());
  for (int i = 0; i < 500; ++i) {
    client.send(post("request " + std::to_string(i)));
    ASSERT_EQ(client.read_response().status, 200);
  }
  client.close();
  expect_records_match(server, client);
}

TEST_F(TlsTestServerTest, ServesIpv6Loopback) {
  std::optional<TlsTestServer> server;
  try {
    server.emplace(options("::1"));
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback: " << e.what();
  }
  RecordingClient client(server->port(), "::1");
  client.send(post("{}"));
  EXPECT_EQ(client.read_response().status, 200);
  client.close();
  expect_records_match(*server, client);
  EXPECT_EQ(server->connections().at(0).peer_address, "::1");
}

TEST_F(TlsTestServerTest, FailedHandshakeIsRecordedAsClosedAndEmpty) {
  TlsTestServer server(options());
  {
    UniqueFd plain = connect_tcp("127.0.0.1", server.port());
    const std::string_view junk = "GET / HTTP/1.1\r\n\r\n";
    ASSERT_EQ(::send(plain.get(), junk.data(), junk.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(junk.size()));
  }
  ASSERT_TRUE(server.wait_for_closed_connections(1, kWait));
  const auto records = server.connections();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0].received.empty());
  EXPECT_TRUE(records[0].sent.empty());
}

TEST_F(TlsTestServerTest, WaitForClosedConnectionsTimesOut) {
  TlsTestServer server(options());
  RecordingClient client(server.port());
  EXPECT_FALSE(server.wait_for_closed_connections(1, 50ms));
}

TEST_F(TlsTestServerTest, DestructorEndsIdleConnections) {
  auto server = std::make_unique<TlsTestServer>(options());
  RecordingClient client(server->port());
  client.send(post("{}"));
  client.read_response();
  server.reset();  // must not hang on the idle keep-alive connection
  EXPECT_TRUE(client.at_eof());
}

TEST_F(TlsTestServerTest, ConstructorReportsBadCertificatePath) {
  TlsTestServerOptions bad = options();
  bad.cert_file = "/nonexistent/cert.pem";
  try {
    TlsTestServer server(bad);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos) << e.what();
  }
}

TEST_F(TlsTestServerTest, ConstructorReportsPortInUse) {
  TlsTestServer first(options());
  TlsTestServerOptions same_port = options();
  same_port.port = first.port();
  try {
    TlsTestServer second(same_port);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bind 127.0.0.1:" + std::to_string(first.port())),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace llmtap::testing
