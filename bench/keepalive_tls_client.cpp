#include "keepalive_tls_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "openssl_handles.h"

namespace llmtap::bench {
namespace {

using testing::SslCtxPtr;
using testing::SslPtr;
using testing::UniqueFd;

UniqueFd connect_tcp(const std::string& host, uint16_t port) {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    throw std::runtime_error("connect failed");
  }
  const int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

void write_all(SSL* ssl, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    size_t n = 0;
    if (SSL_write_ex(ssl, data.data() + done, data.size() - done, &n) != 1) {
      throw std::runtime_error("SSL_write failed");
    }
    done += n;
  }
}

// Reads one response with a Content-Length body; `buffer` keeps bytes read past it.
void read_response(SSL* ssl, std::string& buffer) {
  char chunk[16384];
  size_t header_end;
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    size_t n = 0;
    if (SSL_read_ex(ssl, chunk, sizeof(chunk), &n) != 1) throw std::runtime_error("SSL_read failed");
    buffer.append(chunk, n);
  }
  const auto cl = buffer.find("Content-Length: ");
  if (cl == std::string::npos || cl > header_end) throw std::runtime_error("no Content-Length");
  const size_t body = std::stoul(buffer.substr(cl + 16));
  const size_t total = header_end + 4 + body;
  while (buffer.size() < total) {
    size_t n = 0;
    if (SSL_read_ex(ssl, chunk, sizeof(chunk), &n) != 1) throw std::runtime_error("SSL_read failed");
    buffer.append(chunk, n);
  }
  buffer.erase(0, total);
}

}  // namespace

ClientResult run_keepalive_client(const std::string& host, uint16_t port, uint64_t requests,
                                  size_t body_bytes, size_t response_bytes) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  UniqueFd fd = connect_tcp(host, port);
  SslPtr ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), fd.get());
  if (SSL_connect(ssl.get()) != 1) throw std::runtime_error("TLS handshake failed");

  const std::string body(body_bytes, 'b');
  const std::string request = "POST /v1/chat/completions HTTP/1.1\r\nHost: " + host +
                              "\r\nContent-Type: application/json\r\nx-response-bytes: " +
                              std::to_string(response_bytes) +
                              "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                              body;
  std::string buffer;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < requests; ++i) {
    write_all(ssl.get(), request);
    read_response(ssl.get(), buffer);
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  SSL_shutdown(ssl.get());
  return {requests, elapsed.count()};
}

}  // namespace llmtap::bench
