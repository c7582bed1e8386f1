#pragma once
// Shared pieces of the end-to-end tests: a recording TLS server, real client command lines,
// and the byte-exactness check that is the capture contract.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tls_test_server.h"
#include "bpf_gate.h"
#include "trace_session.h"

namespace llmtap::e2e {

constexpr uint32_t kOneMiB = 1u << 20;

std::string source_path(const std::string& relative);
std::string node_path();  // canonical path of node, or "" when absent

// "IP:PORT" or "[IPv6]:PORT", as llmtap prints endpoints.
std::string endpoint_text(const std::string& address, uint16_t port);

struct Fixture {
  std::filesystem::path dir;
  std::string bind_address;
  std::unique_ptr<testing::TlsTestServer> server;

  explicit Fixture(
      std::string bind = "127.0.0.1",
      std::function<testing::HttpResponse(const testing::HttpRequest&)> responder = {});
  ~Fixture();
  std::string url() const;
  std::string server_endpoint() const;
};

// Clients: each sends `requests` POSTs of `body` bytes on one keep-alive connection and asks
// for `response` body bytes back (curl: one request).
std::vector<std::string> curl_command(const Fixture& f, uint32_t body, uint32_t response);
std::vector<std::string> wget_command(const Fixture& f, uint32_t body, uint32_t response);
std::vector<std::string> python_command(const Fixture& f, uint32_t requests, uint32_t body,
                                        uint32_t response);
std::vector<std::string> node_command(const Fixture& f, uint32_t requests, uint32_t body,
                                      uint32_t response);
// The client built with the tests that carries OpenSSL statically in its own executable (node
// may or may not, depending on where it came from); `ex` uses SSL_write_ex/SSL_read_ex.
constexpr const char* kStaticOpensslComm = "static-openssl-";  // the kernel's 15 characters
std::vector<std::string> static_openssl_command(const Fixture& f, uint32_t requests, uint32_t body,
                                                uint32_t response, bool ex = false);

struct ClientRun {
  pid_t pid = -1;
  std::vector<testing::ServerConnectionRecord> connections;  // the ones it made, all closed
};

// Runs `argv` to completion and collects the server connections it made.
ClientRun run_client(Fixture& f, const std::vector<std::string>& argv);
// Waits for the client's connections after it was run some other way (e.g. ChildProcess).
ClientRun collect_client(Fixture& f, pid_t pid, size_t connections_before);

uint64_t total_bytes(const std::vector<testing::ServerConnectionRecord>& connections);

// Per connection, the client's captured writes are what the server read and its captured
// reads are what the server wrote; every event names the client and the server.
void expect_byte_exact(const TraceSession& trace, const Fixture& f, const ClientRun& run,
                       const std::string& comm, const std::string& lib = "openssl");

}  // namespace llmtap::e2e

// Starts `llmtap trace` with these arguments as `session` (std::optional<TraceSession>); as
// root only, and skipped (or failed under LLMTAP_REQUIRE_BPF=1) where BPF cannot load.
#define START_TRACE(session, ...)                           \
  LLMTAP_REQUIRE_ROOT();                                    \
  std::optional<TraceSession> session;                      \
  try {                                                     \
    session.emplace(std::vector<std::string>{__VA_ARGS__}); \
  } catch (const std::exception& e) {                       \
    LLMTAP_BPF_UNAVAILABLE(e.what());                       \
  }
