#include "fake_kube_api_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "openssl_handles.h"
#include "self_signed_certificate.h"

namespace llmtap::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr std::string_view kToken = "test-token";
// A blocked client read fails after this long instead of hanging the test.
constexpr auto kReadTimeout = 5s;

UniqueFd connect_loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  const timeval timeout{.tv_sec = kReadTimeout.count(), .tv_usec = 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

struct Response {
  int status = 0;
  std::string head;
  std::string text;  // the body as sent
  json body;
};

// Blocking HTTP/1.1 client on one TLS connection: Content-Length responses and chunked watch
// streams.
class KubeClient {
 public:
  explicit KubeClient(uint16_t port)
      : fd_(connect_loopback(port)), ctx_(SSL_CTX_new(TLS_client_method())) {
    if (!ctx_) throw_openssl_error("SSL_CTX_new");
    ssl_.reset(SSL_new(ctx_.get()));
    if (!ssl_ || SSL_set_fd(ssl_.get(), fd_.get()) != 1 || SSL_connect(ssl_.get()) != 1) {
      throw_openssl_error("TLS handshake with the fake API server");
    }
  }

  void send_get(const std::string& target, std::string_view token = kToken) {
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n";
    if (!token.empty()) request += "Authorization: Bearer " + std::string(token) + "\r\n";
    request += "Accept: application/json\r\n\r\n";
    size_t written = 0;
    if (SSL_write_ex(ssl_.get(), request.data(), request.size(), &written) != 1) {
      throw_openssl_error("SSL_write");
    }
  }

  // Status line and headers.
  std::string read_head() {
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) read_more();
    std::string head = pending_.substr(0, end + 4);
    pending_.erase(0, end + 4);
    return head;
  }

  Response get(const std::string& target, std::string_view token = kToken) {
    send_get(target, token);
    Response response;
    response.head = read_head();
    response.status = std::stoi(response.head.substr(9, 3));
    const size_t at = response.head.find("Content-Length: ");
    if (at == std::string::npos) throw std::runtime_error("no Content-Length: " + response.head);
    const size_t length = std::stoul(response.head.substr(at + 16));
    while (pending_.size() < length) read_more();
    response.text = pending_.substr(0, length);
    response.body = json::parse(response.text);
    pending_.erase(0, length);
    return response;
  }

  // Sends a watch request and returns the response head.
  std::string watch(const std::string& target, std::string_view token = kToken) {
    send_get(target, token);
    return read_head();
  }

  // The next chunk's data; nullopt for the final (empty) chunk.
  std::optional<std::string> next_chunk() {
    size_t line_end;
    while ((line_end = pending_.find("\r\n")) == std::string::npos) read_more();
    const size_t size = std::stoul(pending_.substr(0, line_end), nullptr, 16);
    while (pending_.size() < line_end + 2 + size + 2) read_more();
    std::string data = pending_.substr(line_end + 2, size);
    pending_.erase(0, line_end + 2 + size + 2);
    if (size == 0) return std::nullopt;
    return data;
  }

  // The next watch event; each chunk holds exactly one newline-terminated JSON event.
  json next_event() {
    const std::optional<std::string> data = next_chunk();
    if (!data) throw std::runtime_error("watch stream ended");
    if (data->empty() || data->back() != '\n') throw std::runtime_error("unterminated event");
    return json::parse(*data);
  }

  // True when the server ended the connection (close_notify, EOF or reset).
  bool at_eof() {
    char byte;
    size_t n = 0;
    return pending_.empty() && SSL_read_ex(ssl_.get(), &byte, 1, &n) != 1;
  }

  void close() { fd_.reset(); }

 private:
  void read_more() {
    char buffer[16384];
    size_t n = 0;
    if (SSL_read_ex(ssl_.get(), buffer, sizeof(buffer), &n) != 1) {
      throw std::runtime_error("connection ended or timed out");
    }
    pending_.append(buffer, n);
  }

  UniqueFd fd_;
  SslCtxPtr ctx_;
  SslPtr ssl_;
  std::string pending_;
};

FakePod make_pod(std::string ns, std::string name, std::string node, std::string ip) {
  return {.namespace_name = std::move(ns),
          .name = std::move(name),
          .uid = {},
          .node_name = std::move(node),
          .service_account = "default",
          .pod_ip = std::move(ip),
          .labels = {{"app", "demo"}},
          .containers = {{.name = "app",
                          .image = "docker.io/library/nginx:1.25",
                          .container_id = "containerd://" + std::string(64, 'a')}},
          .creation_timestamp = {}};
}

uint64_t rv_of(const json& object) {
  return std::stoull(object.at("metadata").at("resourceVersion").get<std::string>());
}

std::vector<std::string> names_of(const json& list) {
  std::vector<std::string> names;
  for (const json& item : list.at("items")) names.push_back(item.at("metadata").at("name"));
  return names;
}

class FakeKubeApiServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern = ::testing::TempDir() + "llmtap-fake-kube-XXXXXX";
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
  static FakeKubeApiOptions options() {
    return {.cert_file = cert_file(),
            .key_file = key_file(),
            .bind_address = "127.0.0.1",
            .port = 0,
            .token = std::string(kToken),
            .bookmark_interval = 1000ms};
  }

  static inline std::filesystem::path* dir_ = nullptr;
};

TEST_F(FakeKubeApiServerTest, MissingOrWrongTokenGets401Status) {
  FakeKubeApiServer server(options());
  KubeClient client(server.port());
  Response missing = client.get("/api/v1/pods", "");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.text, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                          R"("message":"Unauthorized","reason":"Unauthorized","code":401})");
  EXPECT_NE(missing.head.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_EQ(client.get("/api/v1/pods", "wrong").status, 401);
  EXPECT_EQ(client.get("/api/v1/pods?watch=1", "wrong").status, 401);
  EXPECT_EQ(server.unauthorized_requests(), 3u);
  EXPECT_EQ(server.list_requests(), 0u);
  EXPECT_EQ(server.watch_requests(), 0u);
  EXPECT_EQ(server.request_targets(),
            (std::vector<std::string>{"/api/v1/pods", "/api/v1/pods", "/api/v1/pods?watch=1"}));
}

TEST_F(FakeKubeApiServerTest, ListFiltersByNode) {
  FakeKubeApiServer server(options());
  server.add_pod(make_pod("default", "a1", "node-a", "10.0.0.1"));
  server.add_pod(make_pod("kube-system", "a2", "node-a", "10.0.0.2"));
  server.add_pod(make_pod("default", "b1", "node-b", "10.0.1.1"));
  KubeClient client(server.port());

  Response encoded = client.get("/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a&limit=500");
  EXPECT_EQ(encoded.status, 200);
  EXPECT_EQ(encoded.body["kind"], "PodList");
  EXPECT_EQ(encoded.body["apiVersion"], "v1");
  EXPECT_EQ(encoded.body["metadata"]["resourceVersion"], server.resource_version());
  EXPECT_EQ(names_of(encoded.body), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_FALSE(encoded.body["items"][0].contains("kind"));  // as the apiserver lists

  Response plain = client.get("/api/v1/pods?fieldSelector=spec.nodeName=node-b");
  EXPECT_EQ(names_of(plain.body), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(names_of(client.get("/api/v1/pods").body).size(), 3u);
  EXPECT_EQ(names_of(client
                         .get("/api/v1/namespaces/default/pods?fieldSelector="
                              "spec.nodeName%3Dnode-a")
                         .body),
            (std::vector<std::string>{"a1"}));
  EXPECT_EQ(server.list_requests(), 4u);

  json& item = encoded.body["items"][0];
  EXPECT_EQ(item["metadata"]["namespace"], "default");
  EXPECT_EQ(item["metadata"]["uid"].get<std::string>().size(), 36u);
  EXPECT_EQ(item["metadata"]["resourceVersion"], "2");
  EXPECT_EQ(item["spec"]["nodeName"], "node-a");
  EXPECT_EQ(item["status"]["podIP"], "10.0.0.1");
  EXPECT_EQ(item["status"]["containerStatuses"][0]["containerID"],
            "containerd://" + std::string(64, 'a'));
}

TEST_F(FakeKubeApiServerTest, BadRequestsGetStatusErrors) {
  FakeKubeApiServer server(options());
  KubeClient client(server.port());
  Response unknown = client.get("/api/v1/nodes");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body["kind"], "Status");
  EXPECT_EQ(unknown.body["reason"], "NotFound");
  EXPECT_EQ(client.get("/apis/apps/v1/deployments").status, 404);
  Response bad_field = client.get("/api/v1/pods?fieldSelector=spec.bogus%3Dx");
  EXPECT_EQ(bad_field.status, 400);
  EXPECT_EQ(bad_field.body["message"], "field label not supported: spec.bogus");
  EXPECT_EQ(client.get("/api/v1/pods?watch=1&resourceVersion=abc").status, 400);
}

TEST_F(FakeKubeApiServerTest, WatchStreamsChangesInOrder) {
  FakeKubeApiServer server(options());
  server.add_pod(make_pod("default", "before", "node-a", "10.0.0.1"));
  KubeClient client(server.port());
  Response list = client.get("/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a");
  const std::string rv = list.body["metadata"]["resourceVersion"];

  const std::string head = client.watch(
      "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a&watch=1&resourceVersion=" + rv +
      "&allowWatchBookmarks=false&timeoutSeconds=300");
  EXPECT_EQ(head.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_NE(head.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_NE(head.find("Content-Type: application/json\r\n"), std::string::npos);
  ASSERT_TRUE(server.wait_for_open_watches(1, 5s));

  FakePod pod = make_pod("default", "web", "node-a", "10.0.0.7");
  server.add_pod(pod);
  server.add_pod(make_pod("default", "elsewhere", "node-b", "10.0.1.7"));  // filtered out
  pod.labels["version"] = "2";
  server.update_pod(pod);
  server.delete_pod("default", "web");

  json added = client.next_event();
  json modified = client.next_event();
  json deleted = client.next_event();
  EXPECT_EQ(added["type"], "ADDED");
  EXPECT_EQ(modified["type"], "MODIFIED");
  EXPECT_EQ(deleted["type"], "DELETED");
  for (json* event : {&added, &modified, &deleted}) {
    EXPECT_EQ((*event)["object"]["kind"], "Pod");
    EXPECT_EQ((*event)["object"]["metadata"]["name"], "web");
  }
  EXPECT_LT(std::stoull(rv), rv_of(added["object"]));
  EXPECT_LT(rv_of(added["object"]), rv_of(modified["object"]));
  EXPECT_LT(rv_of(modified["object"]), rv_of(deleted["object"]));
  EXPECT_EQ(deleted["object"]["metadata"]["labels"]["version"], "2");  // last state
  EXPECT_EQ(added["object"]["metadata"]["uid"], deleted["object"]["metadata"]["uid"]);
  EXPECT_EQ(server.watch_requests(), 1u);
}

TEST_F(FakeKubeApiServerTest, WatchReplaysHistoryAfterResourceVersion) {
  FakeKubeApiServer server(options());
  const std::string start = server.resource_version();
  server.add_pod(make_pod("default", "one", "node-a", "10.0.0.1"));
  server.add_pod(make_pod("default", "two", "node-a", "10.0.0.2"));
  server.delete_pod("default", "one");
  KubeClient client(server.port());
  client.watch("/api/v1/pods?watch=true&resourceVersion=" + start);
  std::vector<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    json event = client.next_event();
    seen.push_back(event["type"].get<std::string>() + " " +
                   event["object"]["metadata"]["name"].get<std::string>());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED one", "ADDED two", "DELETED one"}));
}

TEST_F(FakeKubeApiServerTest, WatchWithoutResourceVersionStartsWithCurrentPods) {
  FakeKubeApiServer server(options());
  server.add_pod(make_pod("default", "here", "node-a", "10.0.0.1"));
  server.add_pod(make_pod("default", "there", "node-b", "10.0.1.1"));
  KubeClient client(server.port());
  client.watch("/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dnode-a");
  json initial = client.next_event();
  EXPECT_EQ(initial["type"], "ADDED");
  EXPECT_EQ(initial["object"]["metadata"]["name"], "here");
  server.add_pod(make_pod("default", "later", "node-a", "10.0.0.2"));
  EXPECT_EQ(client.next_event()["object"]["metadata"]["name"], "later");

  KubeClient zero(server.port());
  zero.watch("/api/v1/pods?watch=1&resourceVersion=0&fieldSelector=spec.nodeName%3Dnode-a");
  EXPECT_EQ(zero.next_event()["object"]["metadata"]["name"], "here");
  EXPECT_EQ(zero.next_event()["object"]["metadata"]["name"], "later");
}

TEST_F(FakeKubeApiServerTest, PodScheduledOntoNodeIsAddedAndMovedAwayIsDeleted) {
  FakeKubeApiServer server(options());
  KubeClient client(server.port());
  client.watch("/api/v1/pods?watch=1&resourceVersion=" + server.resource_version() +
               "&fieldSelector=spec.nodeName%3Dnode-a");
  FakePod pod = make_pod("default", "job", "", "");
  pod.containers[0].container_id.clear();
  server.add_pod(pod);  // unscheduled: not on node-a yet
  pod.node_name = "node-a";
  server.update_pod(pod);
  pod.node_name = "node-b";
  server.update_pod(pod);

  json bound = client.next_event();
  EXPECT_EQ(bound["type"], "ADDED");
  EXPECT_EQ(bound["object"]["status"]["phase"], "Pending");
  EXPECT_FALSE(bound["object"]["status"]["containerStatuses"][0]["started"].get<bool>());
  json moved = client.next_event();
  EXPECT_EQ(moved["type"], "DELETED");
  EXPECT_EQ(moved["object"]["spec"]["nodeName"], "node-a");
  EXPECT_EQ(rv_of(moved["object"]), std::stoull(server.resource_version()));
}

TEST_F(FakeKubeApiServerTest, WatchFromCompactedResourceVersionGetsExpiredError) {
  FakeKubeApiServer server(options());
  const std::string old_rv = server.resource_version();
  server.add_pod(make_pod("default", "p", "node-a", "10.0.0.1"));
  KubeClient live(server.port());
  live.watch("/api/v1/pods?watch=1&resourceVersion=" + old_rv);
  EXPECT_EQ(live.next_event()["type"], "ADDED");
  ASSERT_TRUE(server.wait_for_open_watches(1, 5s));

  server.add_pod(make_pod("default", "q", "node-a", "10.0.0.2"));
  server.compact();
  // The open stream ends (possibly after the event that preceded the compaction).
  std::optional<std::string> chunk = live.next_chunk();
  if (chunk) chunk = live.next_chunk();
  EXPECT_FALSE(chunk.has_value());

  KubeClient client(server.port());
  const std::string head = client.watch("/api/v1/pods?watch=1&resourceVersion=" + old_rv);
  EXPECT_EQ(head.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(client.next_chunk(),
            R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},)"
            R"json("status":"Failure","message":"too old resource version: 1 (3)",)json"
            R"("reason":"Expired","code":410}})"
            "\n");
  EXPECT_FALSE(client.next_chunk().has_value());
  EXPECT_EQ(server.gone_responses(), 1u);

  // Watching from the compaction point itself is fine; so is a fresh list.
  Response list = client.get("/api/v1/pods");
  EXPECT_EQ(list.body["metadata"]["resourceVersion"], "3");
  client.watch("/api/v1/pods?watch=1&resourceVersion=3");
  server.delete_pod("default", "p");
  EXPECT_EQ(client.next_event()["type"], "DELETED");
  EXPECT_EQ(server.gone_responses(), 1u);
}

TEST_F(FakeKubeApiServerTest, SetTokenRotatesCredentials) {
  FakeKubeApiServer server(options());
  KubeClient client(server.port());
  EXPECT_EQ(client.get("/api/v1/pods").status, 200);
  server.set_token("rotated-token");
  EXPECT_EQ(client.get("/api/v1/pods").status, 401);
  EXPECT_EQ(client.get("/api/v1/pods", "rotated-token").status, 200);
  EXPECT_EQ(server.unauthorized_requests(), 1u);
  EXPECT_THROW(server.set_token(""), std::runtime_error);
}

TEST_F(FakeKubeApiServerTest, BookmarksArriveWhenIdleAndOnlyWhenAllowed) {
  FakeKubeApiOptions fast = options();
  fast.bookmark_interval = 100ms;
  FakeKubeApiServer server(fast);
  server.add_pod(make_pod("default", "p", "node-a", "10.0.0.1"));
  KubeClient client(server.port());
  client.watch("/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=" +
               server.resource_version());
  json first = client.next_event();
  EXPECT_EQ(first, json::parse(R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1",
      "metadata":{"resourceVersion":"2"}}})"));
  server.add_pod(make_pod("default", "q", "node-b", "10.0.0.2"));
  json event = client.next_event();
  EXPECT_EQ(event["type"], "ADDED");
  event = client.next_event();
  EXPECT_EQ(event["type"], "BOOKMARK");
  EXPECT_EQ(event["object"]["metadata"]["resourceVersion"], "3");

  KubeClient plain(server.port());
  plain.watch("/api/v1/pods?watch=1&resourceVersion=" + server.resource_version());
  std::this_thread::sleep_for(350ms);
  server.delete_pod("default", "q");
  EXPECT_EQ(plain.next_event()["type"], "DELETED");  // no bookmark before it
}

TEST_F(FakeKubeApiServerTest, TimeoutSecondsEndsStreamAndKeepsConnection) {
  FakeKubeApiServer server(options());
  KubeClient client(server.port());
  const auto started = std::chrono::steady_clock::now();
  client.watch("/api/v1/pods?watch=1&timeoutSeconds=1&resourceVersion=" +
               server.resource_version());
  EXPECT_FALSE(client.next_chunk().has_value());
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 3s);
  EXPECT_EQ(client.get("/api/v1/pods").status, 200);  // same connection
  EXPECT_EQ(server.open_watches(), 0u);
}

TEST_F(FakeKubeApiServerTest, CloseWatchesEndsStreamsCleanly) {
  FakeKubeApiServer server(options());
  KubeClient first(server.port());
  KubeClient second(server.port());
  first.watch("/api/v1/pods?watch=1&resourceVersion=" + server.resource_version());
  second.watch("/api/v1/pods?watch=1");
  ASSERT_TRUE(server.wait_for_open_watches(2, 5s));
  server.close_watches();
  EXPECT_FALSE(first.next_chunk().has_value());
  EXPECT_FALSE(second.next_chunk().has_value());
  EXPECT_EQ(first.get("/api/v1/pods").status, 200);
  // A resumed watch from the same resourceVersion sees what happened in between.
  const std::string rv = server.resource_version();
  server.add_pod(make_pod("default", "p", "node-a", "10.0.0.1"));
  second.watch("/api/v1/pods?watch=1&resourceVersion=" + rv);
  EXPECT_EQ(second.next_event()["type"], "ADDED");
}

TEST_F(FakeKubeApiServerTest, DestructorWithLiveWatchReturnsQuickly) {
  auto server = std::make_unique<FakeKubeApiServer>(options());
  KubeClient watching(server->port());
  watching.watch("/api/v1/pods?watch=1&allowWatchBookmarks=true");
  KubeClient idle(server->port());
  EXPECT_EQ(idle.get("/api/v1/pods").status, 200);
  ASSERT_TRUE(server->wait_for_open_watches(1, 5s));
  const auto started = std::chrono::steady_clock::now();
  server.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_TRUE(watching.at_eof());
  EXPECT_TRUE(idle.at_eof());
}

TEST_F(FakeKubeApiServerTest, ClientDisconnectMidStreamIsHarmless) {
  FakeKubeApiServer server(options());
  {
    KubeClient quitter(server.port());
    quitter.watch("/api/v1/pods?watch=1");
    ASSERT_TRUE(server.wait_for_open_watches(1, 5s));
    quitter.close();
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server.open_watches() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server.open_watches(), 0u);
  for (int i = 0; i < 50; ++i) {
    server.add_pod(make_pod("default", "p" + std::to_string(i), "node-a", "10.0.0.1"));
  }
  KubeClient client(server.port());
  EXPECT_EQ(names_of(client.get("/api/v1/pods").body).size(), 50u);
}

TEST_F(FakeKubeApiServerTest, FixedPortServesAgainAfterRestart) {
  uint16_t port = 0;
  {
    FakeKubeApiServer first(options());
    port = first.port();
    KubeClient client(port);
    EXPECT_EQ(client.get("/api/v1/pods").status, 200);
  }
  EXPECT_THROW(KubeClient{port}, std::runtime_error);  // API down
  FakeKubeApiOptions same = options();
  same.port = port;
  FakeKubeApiServer second(same);
  KubeClient client(port);
  EXPECT_EQ(client.get("/api/v1/pods").status, 200);
}

TEST_F(FakeKubeApiServerTest, PodJsonHasTheV1Shape) {
  FakePod pod = make_pod("team", "api", "node-a", "10.1.2.3");
  pod.uid = "0b7c3c8e-2f0a-4d7e-9d47-6b1f0c6f4b8a";
  pod.service_account = "api-sa";
  json object = to_pod_json(pod, "42");
  EXPECT_EQ(object["kind"], "Pod");
  EXPECT_EQ(object["apiVersion"], "v1");
  EXPECT_EQ(object["metadata"]["resourceVersion"], "42");
  EXPECT_EQ(object["metadata"]["uid"], pod.uid);
  EXPECT_EQ(object["metadata"]["labels"]["app"], "demo");
  EXPECT_TRUE(object["metadata"].contains("creationTimestamp"));
  EXPECT_EQ(object["spec"]["serviceAccountName"], "api-sa");
  EXPECT_EQ(object["spec"]["containers"][0],
            json::parse(R"({"name":"app","image":"docker.io/library/nginx:1.25"})"));
  EXPECT_EQ(object["status"]["phase"], "Running");
  EXPECT_EQ(object["status"]["podIPs"], json::parse(R"([{"ip":"10.1.2.3"}])"));
  json& status = object["status"]["containerStatuses"][0];
  EXPECT_EQ(status["name"], "app");
  EXPECT_TRUE(status["ready"].get<bool>());
  EXPECT_TRUE(status["started"].get<bool>());
  EXPECT_TRUE(status["state"]["running"].contains("startedAt"));
  EXPECT_TRUE(
      status["imageID"].get<std::string>().starts_with("docker.io/library/nginx:1.25@sha256:"));
}

}  // namespace
}  // namespace llmtap::testing
