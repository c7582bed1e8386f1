// KubePodWatcher against a local HTTPS server speaking the Kubernetes API: list then watch,
// a restarted API server whose history moved on (410 Gone: list again), a rejected token that
// is rotated in its file, an event larger than the limit, a server that is not there, and a
// stop that does not wait for the watch to end.
#include "enrich/kube_pod_watcher.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include "fake_kube_api_server.h"
#include "self_signed_certificate.h"

namespace llmtap::enrich {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::FakeKubeApiOptions;
using testing::FakeKubeApiServer;
using testing::FakePod;

constexpr const char* kNode = "node-a";

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

std::string container_id(char c) { return std::string(64, c); }

FakePod pod(const std::string& name, char id, const std::string& node = kNode) {
  FakePod p;
  p.namespace_name = "default";
  p.name = name;
  p.node_name = node;
  p.labels = {{"app", name}};
  p.containers.push_back({"main", "busybox:1.36", "containerd://" + container_id(id)});
  return p;
}

uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class KubePodWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/llmtap-kube-watch-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    testing::write_self_signed_certificate((dir_ / "api.crt").string(),
                                           (dir_ / "api.key").string());
    write_token("token-1");
    port_ = free_port();
  }
  void TearDown() override {
    watcher_.reset();
    server_.reset();
    fs::remove_all(dir_);
  }

  void write_token(const std::string& token) const {
    std::ofstream(dir_ / "token.new") << token << "\n";
    fs::rename(dir_ / "token.new", dir_ / "token");
  }
  void start_server(const std::string& token = "token-1") {
    FakeKubeApiOptions o;
    o.cert_file = (dir_ / "api.crt").string();
    o.key_file = (dir_ / "api.key").string();
    o.port = port_;
    o.token = token;
    server_ = std::make_unique<FakeKubeApiServer>(o);
  }
  void start_watcher(KubeWatchOptions options = {}) {
    KubeApiConfig c;
    c.server = "https://127.0.0.1:" + std::to_string(port_);
    c.ca_file = (dir_ / "api.crt").string();
    c.token_file = (dir_ / "token").string();
    c.source = "test";
    options.node_name = kNode;
    options.backoff_min = 50ms;
    options.backoff_max = 400ms;
    watcher_ = std::make_unique<KubePodWatcher>(c, options, pods_);
    watcher_->start();
  }
  bool knows(char id) const { return pods_.by_container(container_id(id)).has_value(); }
  bool live(char id) const {
    const auto m = pods_.by_container(container_id(id));
    return m && pods_.live_pods() > 0 && pods_.by_uid(m->pod->uid) != nullptr;
  }

  fs::path dir_;
  uint16_t port_ = 0;
  PodDirectory pods_{16, std::chrono::seconds(600)};
  std::unique_ptr<FakeKubeApiServer> server_;
  std::unique_ptr<KubePodWatcher> watcher_;
};

TEST_F(KubePodWatcherTest, ListsThenFollowsTheWatch) {
  start_server();
  server_->add_pod(pod("a", 'a'));
  server_->add_pod(pod("elsewhere", 'e', "node-b"));  // another node's pod: not ours
  start_watcher();
  ASSERT_TRUE(eventually([&] { return watcher_->synced() && knows('a'); }));
  EXPECT_FALSE(knows('e'));
  ASSERT_TRUE(server_->wait_for_open_watches(1, 10s));

  server_->add_pod(pod("b", 'b'));
  ASSERT_TRUE(eventually([&] { return knows('b'); }));
  FakePod relabelled = pod("b", 'b');
  relabelled.labels["version"] = "2";
  server_->update_pod(relabelled);
  ASSERT_TRUE(eventually([&] {
    const auto m = pods_.by_container(container_id('b'));
    return m && m->pod->labels.size() == 2;
  }));
  server_->delete_pod("default", "a");
  ASSERT_TRUE(eventually([&] { return pods_.deleted_pods() == 1; }));
  EXPECT_TRUE(knows('a')) << "a deleted pod stays findable for late records";
  EXPECT_EQ(pods_.live_pods(), 1u);

  const KubeWatchStats s = watcher_->stats();
  EXPECT_EQ(s.lists, 1u);
  EXPECT_GE(s.events, 3u);
  EXPECT_EQ(s.request_errors, 0u);
  EXPECT_TRUE(s.reachable);
  // The requests the API server saw: the node's pods only, watched from the list's version.
  const auto targets = server_->request_targets();
  ASSERT_GE(targets.size(), 2u);
  EXPECT_NE(targets[0].find("fieldSelector=spec.nodeName%3Dnode-a"), std::string::npos)
      << targets[0];
  EXPECT_NE(targets[1].find("watch=1"), std::string::npos) << targets[1];
  EXPECT_NE(targets[1].find("resourceVersion="), std::string::npos) << targets[1];
}

TEST_F(KubePodWatcherTest, ARestartedApiServerWhoseHistoryMovedOnIsListedAgain) {
  start_server();
  server_->add_pod(pod("a", 'a'));
  start_watcher();
  ASSERT_TRUE(eventually([&] { return knows('a'); }));
  ASSERT_TRUE(server_->wait_for_open_watches(1, 10s));

  server_.reset();  // down: the watch breaks, retries fail
  ASSERT_TRUE(eventually([&] { return watcher_->stats().request_errors >= 1; }));
  EXPECT_FALSE(watcher_->stats().reachable);
  start_server();  // back, with other pods and a history that starts later
  for (char id : {'b', 'c', 'd', 'e', 'f'}) server_->add_pod(pod(std::string(1, id), id));
  server_->compact();
  ASSERT_TRUE(eventually([&] { return knows('b') && knows('f'); }));
  ASSERT_TRUE(eventually([&] { return pods_.deleted_pods() == 1; }))
      << "a, absent from the new list, is deleted";
  const KubeWatchStats s = watcher_->stats();
  EXPECT_GE(s.relists_after_gone, 1u);
  EXPECT_EQ(s.lists, 2u);
  EXPECT_GE(server_->gone_responses(), 1u);
  EXPECT_TRUE(eventually([&] { return watcher_->stats().reachable; }));
}

TEST_F(KubePodWatcherTest, ARejectedTokenIsRetriedAndTheRotatedFileIsReadAgain) {
  start_server("token-2");  // the file still has token-1
  server_->add_pod(pod("a", 'a'));
  start_watcher();
  ASSERT_TRUE(eventually([&] { return watcher_->stats().auth_failures >= 2; }));
  EXPECT_FALSE(watcher_->synced());
  write_token("token-2");
  ASSERT_TRUE(eventually([&] { return watcher_->synced() && knows('a'); }));
  EXPECT_GE(server_->unauthorized_requests(), 2u);
}

TEST_F(KubePodWatcherTest, AnEventOverTheLimitIsNotKeptButTheListIs) {
  start_server();
  KubeWatchOptions options;
  options.max_event_bytes = 16 * 1024;
  start_watcher(options);
  ASSERT_TRUE(eventually([&] { return watcher_->synced(); }));
  ASSERT_TRUE(server_->wait_for_open_watches(1, 10s));
  FakePod big = pod("big", 'g');
  big.labels["blob"] = std::string(64 * 1024, 'x');
  server_->add_pod(big);
  // The oversized event breaks the watch; listing again (lists have their own, larger limit)
  // brings the pod in.
  ASSERT_TRUE(eventually([&] { return knows('g'); }));
  EXPECT_GE(watcher_->stats().lists, 2u);
  EXPECT_GE(watcher_->stats().request_errors, 1u);
}

// Just over the limit: the line ends in the piece after the one that filled the limit, which
// must not slip through because it ends there.
TEST_F(KubePodWatcherTest, AnEventJustOverTheLimitIsNotKeptEither) {
  start_server();
  KubeWatchOptions options;
  options.max_event_bytes = 16 * 1024;
  start_watcher(options);
  ASSERT_TRUE(eventually([&] { return watcher_->synced(); }));
  ASSERT_TRUE(server_->wait_for_open_watches(1, 10s));
  FakePod big = pod("big", 'g');
  big.labels["blob"] = std::string(options.max_event_bytes + 256, 'x');
  server_->add_pod(big);
  ASSERT_TRUE(eventually([&] { return knows('g'); }));
  EXPECT_GE(watcher_->stats().lists, 2u);
  EXPECT_GE(watcher_->stats().request_errors, 1u);
  EXPECT_EQ(watcher_->stats().events, 0u);
}

TEST_F(KubePodWatcherTest, NoServerAtAllIsRetriedQuietlyAndStopIsPrompt) {
  start_watcher();
  ASSERT_TRUE(eventually([&] { return watcher_->stats().request_errors >= 3; }));
  EXPECT_FALSE(watcher_->synced());
  const auto start = std::chrono::steady_clock::now();
  watcher_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(KubePodWatcherTest, StopDoesNotWaitForAnOpenWatchToEnd) {
  start_server();
  start_watcher();
  ASSERT_TRUE(server_->wait_for_open_watches(1, 10s));
  const auto start = std::chrono::steady_clock::now();
  watcher_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

}  // namespace
}  // namespace llmtap::enrich
