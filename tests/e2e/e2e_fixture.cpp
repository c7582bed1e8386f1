#include "e2e_fixture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "child_process.h"

namespace llmtap::e2e {

namespace fs = std::filesystem;

std::string source_path(const std::string& relative) {
  return std::string(LLMTAP_SOURCE_DIR) + "/" + relative;
}

std::string node_path() {
  for (const char* p : {"/usr/bin/node", "/usr/local/bin/node"}) {
    if (fs::exists(p)) return fs::canonical(p);
  }
  return {};
}

std::string endpoint_text(const std::string& address, uint16_t port) {
  const bool v6 = address.find(':') != std::string::npos;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

Fixture::Fixture(std::string bind,
                 std::function<testing::HttpResponse(const testing::HttpRequest&)> responder)
    : bind_address(std::move(bind)) {
  static int counter = 0;
  dir = fs::temp_directory_path() /
        ("llmtap-e2e-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  fs::create_directories(dir);
  testing::write_self_signed_certificate(dir / "cert.pem", dir / "key.pem");
  testing::TlsTestServerOptions options;
  options.bind_address = bind_address;
  options.cert_file = dir / "cert.pem";
  options.key_file = dir / "key.pem";
  options.responder = std::move(responder);
  server = std::make_unique<testing::TlsTestServer>(options);
}

Fixture::~Fixture() {
  server.reset();
  fs::remove_all(dir);
}

std::string Fixture::url() const { return "https://" + server_endpoint() + "/v1/chat/completions"; }

std::string Fixture::server_endpoint() const { return endpoint_text(bind_address, server->port()); }

namespace {

std::string body_file(const Fixture& f, uint32_t body) {
  const fs::path path = f.dir / ("body-" + std::to_string(body));
  if (!fs::exists(path)) std::ofstream(path, std::ios::binary) << std::string(body, 'c');
  return path;
}

}  // namespace

std::vector<std::string> curl_command(const Fixture& f, uint32_t body, uint32_t response) {
  return {"curl",
          "-sSk",
          "--http1.1",
          "-o",
          "/dev/null",
          "-H",
          "Expect:",
          "-H",
          "Content-Type: application/json",
          "-H",
          "x-response-bytes: " + std::to_string(response),
          "--data-binary",
          "@" + body_file(f, body),
          f.url()};
}

std::vector<std::string> wget_command(const Fixture& f, uint32_t body, uint32_t response) {
  return {"wget",
          "-q",
          "--no-check-certificate",
          "-O",
          "/dev/null",
          "--header=x-response-bytes: " + std::to_string(response),
          "--post-file=" + body_file(f, body),
          f.url()};
}

std::vector<std::string> python_command(const Fixture& f, uint32_t requests, uint32_t body,
                                        uint32_t response) {
  return {"python3",          source_path("tests/clients/python_client.py"),
          "--host",           f.bind_address,
          "--port",           std::to_string(f.server->port()),
          "--requests",       std::to_string(requests),
          "--body-bytes",     std::to_string(body),
          "--response-bytes", std::to_string(response)};
}

std::vector<std::string> node_command(const Fixture& f, uint32_t requests, uint32_t body,
                                      uint32_t response) {
  return {node_path(),        source_path("tests/clients/node_client.js"),
          "--host",           f.bind_address,
          "--port",           std::to_string(f.server->port()),
          "--requests",       std::to_string(requests),
          "--body-bytes",     std::to_string(body),
          "--response-bytes", std::to_string(response)};
}

std::vector<std::string> static_openssl_command(const Fixture& f, uint32_t requests, uint32_t body,
                                                uint32_t response, bool ex) {
  return {LLMTAP_STATIC_OPENSSL_CLIENT,
          "--host",
          f.bind_address,
          "--port",
          std::to_string(f.server->port()),
          "--requests",
          std::to_string(requests),
          "--body-bytes",
          std::to_string(body),
          "--response-bytes",
          std::to_string(response),
          "--api",
          ex ? "ex" : "classic"};
}

ClientRun collect_client(Fixture& f, pid_t pid, size_t connections_before) {
  const auto now = f.server->connections().size();
  f.server->wait_for_closed_connections(now, std::chrono::seconds(10));
  const auto all = f.server->connections();
  ClientRun run;
  run.pid = pid;
  run.connections.assign(all.begin() + static_cast<long>(connections_before), all.end());
  EXPECT_FALSE(run.connections.empty()) << "the client made no connection";
  return run;
}

ClientRun run_client(Fixture& f, const std::vector<std::string>& argv) {
  const size_t before = f.server->connections().size();
  pid_t pid = -1;
  const ChildResult result = run_child(argv, &pid);
  EXPECT_EQ(result.exit_code, 0) << argv[0] << " failed: " << result.err << result.out;
  return collect_client(f, pid, before);
}

uint64_t total_bytes(const std::vector<testing::ServerConnectionRecord>& connections) {
  uint64_t n = 0;
  for (const auto& c : connections) n += c.received.size() + c.sent.size();
  return n;
}

void expect_byte_exact(const TraceSession& trace, const Fixture& f, const ClientRun& run,
                       const std::string& comm, const std::string& lib) {
  const auto events = trace.wait_for_bytes(run.pid, total_bytes(run.connections));
  ASSERT_FALSE(events.empty()) << "no event for pid " << run.pid;
  std::set<std::string> client_endpoints;
  for (const auto& c : run.connections) {
    const std::string src = endpoint_text(c.peer_address, c.peer_port);
    client_endpoints.insert(src);
    const std::string writes = concat_data(events, "write", src);
    const std::string reads = concat_data(events, "read", src);
    EXPECT_EQ(writes.size(), c.received.size()) << comm << " writes on " << src;
    EXPECT_TRUE(writes == c.received) << comm << " captured writes differ on " << src;
    EXPECT_EQ(reads.size(), c.sent.size()) << comm << " reads on " << src;
    EXPECT_TRUE(reads == c.sent) << comm << " captured reads differ on " << src;
  }
  for (const auto& e : events) {
    EXPECT_EQ(e.comm, comm);
    EXPECT_EQ(e.json["lib"], lib);
    EXPECT_EQ(e.dst, f.server_endpoint());
    EXPECT_TRUE(client_endpoints.contains(e.src)) << "unexpected src " << e.src;
    EXPECT_FALSE(e.truncated);
    EXPECT_EQ(e.lost, 0u);
    EXPECT_EQ(e.len, e.data.size());
  }
}

}  // namespace llmtap::e2e
