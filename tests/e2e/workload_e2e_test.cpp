// End to end, as root: `llmtap daemon` names the container and the Kubernetes pod of every
// call. A TLS client runs in a real kubelet-shaped cgroup v2 hierarchy; a local HTTPS server
// speaking the Kubernetes API (PodList, watch streams, bearer tokens, 410 Gone) stands in for
// the API server. Records follow the pods as they come and go, policy scopes match on them,
// and an API server that is down at start delays nothing.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>

#include "bpf_gate.h"
#include "child_process.h"
#include "e2e_fixture.h"
#include "fake_kube_api_server.h"
#include "llm_records.h"
#include "self_signed_certificate.h"
#include "test_cgroup.h"

namespace llmtap::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using testing::FakeKubeApiServer;
using testing::FakePod;

constexpr const char* kNode = "node-e2e-1";

// A rule that applies only to pods of namespace team-a labelled app=chat.
constexpr const char* kScopedPolicy = R"(version: 1
rules:
  - id: team-a-chat-calls
    severity: low
    scope: {namespaces: ["team-a"], pod_labels: {app: "chat"}}
    model:
      deny: [{models: ["gpt-4o*"]}]
)";

std::string random_hex(size_t n) {
  static std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) out.push_back(kHex[random() % 16]);
  return out;
}

std::string random_uuid() {
  std::string h = random_hex(32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

// A burstable pod's container under the kubelet's systemd driver.
std::string kubelet_path(const std::string& pod_uid, const std::string& container_id) {
  std::string uid = pod_uid;
  for (char& c : uid) c = c == '-' ? '_' : c;
  return "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uid +
         ".slice/cri-containerd-" + container_id + ".scope";
}

struct TestPod {
  FakePod pod;
  std::string container_id;
  std::unique_ptr<TestCgroup> cgroup;
};

TestPod make_pod(const std::string& ns, const std::string& name,
                 std::map<std::string, std::string> labels) {
  TestPod t;
  t.container_id = random_hex(64);
  t.pod.namespace_name = ns;
  t.pod.name = name;
  t.pod.uid = random_uuid();
  t.pod.node_name = kNode;
  t.pod.service_account = name + "-sa";
  t.pod.pod_ip = "10.244.1." + std::to_string(10 + name.size());
  t.pod.labels = std::move(labels);
  t.pod.containers.push_back({"app", "registry.local/" + name + ":1.4", "containerd://" + t.container_id});
  t.cgroup = std::make_unique<TestCgroup>(kubelet_path(t.pod.uid, t.container_id));
  return t;
}

// Runs curl (one chat completion for `model`) inside `cgroup` (host: nullptr) to completion.
pid_t run_curl_in(Fixture& f, const TestCgroup* cgroup, const std::string& model) {
  const std::string body = json{{"model", model}, {"messages", json::array()}}.dump();
  ChildProcess child({"curl", "-sSk", "--max-time", "20", f.url(), "-H",
                      "content-type: application/json", "-d", body});
  if (cgroup != nullptr) cgroup->add_process(child.pid());
  child.release();
  const ChildResult r = child.wait(30s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return child.pid();
}

// The daemon's kubeconfig: a token file (rotated by rewriting it) and the API server's CA.
struct KubeAccess {
  fs::path cert, key, token, kubeconfig;
  KubeAccess(const fs::path& dir, const std::string& token_value) {
    cert = dir / "kube-api.crt";
    key = dir / "kube-api.key";
    token = dir / "token";
    kubeconfig = dir / "kubeconfig";
    testing::write_self_signed_certificate(cert.string(), key.string());
    write_token(token_value);
  }
  void point_at(uint16_t port) const {
    std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\ncurrent-context: e2e\n"
                              << "clusters:\n- name: e2e\n  cluster:\n    server: https://127.0.0.1:"
                              << port << "\n    certificate-authority: kube-api.crt\n"
                              << "users:\n- name: agent\n  user:\n    tokenFile: token\n"
                              << "contexts:\n- name: e2e\n  context: {cluster: e2e, user: agent}\n";
  }
  void write_token(const std::string& value) const {
    const fs::path tmp = token.string() + ".new";
    std::ofstream(tmp) << value << "\n";
    fs::rename(tmp, token);  // atomically, as the kubelet rotates projected tokens
  }
};

// A kubelet cgroupfs-driver path in a cgroup v1 hierarchy (hybrid hosts): the process's v2
// cgroup names no container, its v1 one does. Removed again, deepest first.
class V1KubeletCgroup {
 public:
  static std::optional<std::string> hierarchy() {
    struct statfs st {};
    const std::string root = "/sys/fs/cgroup/pids";
    if (statfs(root.c_str(), &st) != 0 || st.f_type != CGROUP_SUPER_MAGIC) return std::nullopt;
    return root;
  }
  V1KubeletCgroup(const std::string& root, const std::string& pod_uid,
                  const std::string& container_id) {
    std::string dir = root + "/llmtap-test-" + std::to_string(getpid());
    for (const std::string& part :
         {std::string(), std::string("/kubepods"), std::string("/burstable"), "/pod" + pod_uid,
          "/" + container_id}) {
      dir += part;
      fs::create_directory(dir);
      created_.push_back(dir);
    }
  }
  ~V1KubeletCgroup() {
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
      std::ifstream procs(*it + "/cgroup.procs");
      for (pid_t pid = 0; procs >> pid;) {
        std::ofstream(created_.front().substr(0, created_.front().rfind('/')) + "/cgroup.procs")
            << pid;
      }
      std::error_code ec;
      for (int i = 0; i < 50 && !fs::remove(*it, ec); ++i) std::this_thread::sleep_for(20ms);
    }
  }
  void add_process(pid_t pid) const { std::ofstream(created_.back() + "/cgroup.procs") << pid; }

 private:
  std::vector<std::string> created_;
};

// A fake cluster for one test: the API server, and a kubeconfig pointing at it with "token-1".
struct FakeCluster {
  const KubeAccess kube;
  FakeKubeApiServer api;
  explicit FakeCluster(const fs::path& dir) : kube(dir, "token-1"), api(options_for(kube)) {
    kube.point_at(api.port());
  }
  static testing::FakeKubeApiOptions options_for(const KubeAccess& kube) {
    testing::FakeKubeApiOptions options;
    options.cert_file = kube.cert.string();
    options.key_file = kube.key.string();
    options.token = "token-1";
    return options;
  }
};

uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::vector<json> events_of(const TraceSession& daemon) { return daemon.json_lines(); }

// The one HTTP Activity record of `pid`'s call.
json record_of(const TraceSession& daemon, pid_t pid, std::chrono::milliseconds timeout = 15s) {
  const auto records = wait_for_llm_records(daemon, pid, 1, timeout);
  if (records.empty()) return json();
  return records.front().event;
}

std::vector<std::string> rules_fired_for(const TraceSession& daemon, pid_t pid) {
  std::vector<std::string> rules;
  for (const json& e : events_of(daemon)) {
    const int cls = e.value("class_uid", 0);
    if ((cls == 2004 || cls == 2006) && e["actor"]["process"]["pid"] == pid) {
      rules.push_back(e["unmapped"]["llmtap"]["rule_id"]);
    }
  }
  return rules;
}

void expect_names_pod(const json& record, const TestPod& t) {
  ASSERT_TRUE(record.is_object()) << "no record";
  const auto at = [&](const std::string& pointer) {
    const json::json_pointer p(pointer);
    return record.contains(p) && record[p].is_string() ? record[p].get<std::string>()
                                                       : std::string("(missing)");
  };
  SCOPED_TRACE(record.dump());
  EXPECT_EQ(at("/actor/process/container/uid"), t.container_id);
  EXPECT_EQ(at("/actor/process/container/name"), "app");
  EXPECT_EQ(at("/actor/process/container/runtime"), "containerd");
  EXPECT_EQ(at("/actor/process/container/pod_uuid"), t.pod.uid);
  EXPECT_EQ(at("/actor/process/container/orchestrator"), "Kubernetes");
  EXPECT_EQ(at("/actor/process/container/image/name"), "registry.local/" + t.pod.name + ":1.4");
  EXPECT_EQ(at("/unmapped/llmtap/pod/namespace"), t.pod.namespace_name);
  EXPECT_EQ(at("/unmapped/llmtap/pod/name"), t.pod.name);
  EXPECT_EQ(at("/unmapped/llmtap/pod/uid"), t.pod.uid);
  EXPECT_EQ(at("/unmapped/llmtap/pod/node"), kNode);
  EXPECT_EQ(at("/unmapped/llmtap/pod/service_account"), t.pod.service_account);
  EXPECT_EQ(at("/unmapped/llmtap/pod/ip"), t.pod.pod_ip);
  for (const auto& [k, v] : t.pod.labels) EXPECT_EQ(at("/unmapped/llmtap/pod/labels/" + k), v);
  const json::json_pointer profiles("/metadata/profiles");
  ASSERT_TRUE(record.contains(profiles));
  EXPECT_NE(std::find(record[profiles].begin(), record[profiles].end(), "container"),
            record[profiles].end());
}

void expect_valid_ocsf(const TraceSession& daemon, const fs::path& dir) {
  const fs::path events = dir / "events.jsonl";
  std::ofstream(events) << daemon.stdout_text();
  const std::string validator = std::string(LLMTAP_SOURCE_DIR) + "/../shared/ocsf/validate.py";
  if (!fs::exists(validator)) {
    if (bpf_required()) FAIL() << "no OCSF validator at " << validator;
    return;
  }
  const ChildResult v =
      run_child({"python3", validator, "--version", "1.9.0", "--quiet", events.string()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

void start_daemon(std::optional<TraceSession>& daemon, const Fixture& f, const KubeAccess& kube,
                  const std::vector<std::string>& extra = {}) {
  const fs::path catalog = f.dir / "catalog.yaml";
  const fs::path policy = f.dir / "policy.yaml";
  std::ofstream(catalog) << kLocalLlmCatalog;
  std::ofstream(policy) << kScopedPolicy;
  std::vector<std::string> args = {"--catalog",    catalog.string(),         "--policy",
                                   policy.string(), "--kubeconfig",          kube.kubeconfig.string(),
                                   "--node-name",  kNode};
  args.insert(args.end(), extra.begin(), extra.end());
  daemon.emplace(args, 60s, std::vector<std::string>{}, "daemon");
}

TEST(WorkloadE2E, RecordsNameThePodAndFollowTheWatch) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  FakeCluster cluster(f.dir);
  const KubeAccess& kube = cluster.kube;
  FakeKubeApiServer& api = cluster.api;

  TestPod chat = make_pod("team-a", "chat-7d9f", {{"app", "chat"}, {"team", "a"}});
  api.add_pod(chat.pod);
  std::optional<TraceSession> daemon;
  try {
    start_daemon(daemon, f, kube);
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  ASSERT_TRUE(api.wait_for_open_watches(1, 15s)) << daemon->stderr_text();

  // 1. A pod known from the list: its call names it, and the scoped rule fires for it.
  const pid_t in_chat = run_curl_in(f, chat.cgroup.get(), "gpt-4o");
  expect_names_pod(record_of(*daemon, in_chat), chat);
  // 2. A host process: no container, and the scoped rule does not apply.
  const pid_t on_host = run_curl_in(f, nullptr, "gpt-4o");
  const json host_record = record_of(*daemon, on_host);
  EXPECT_FALSE(host_record["actor"]["process"].contains("container")) << host_record.dump();

  // 3. The pod is deleted and another appears, through the watch: later records follow. The
  //    deleted pod's container still resolves (a late record about it).
  api.delete_pod(chat.pod.namespace_name, chat.pod.name);
  TestPod batch = make_pod("team-b", "batch-x1", {{"app", "batch"}});
  api.add_pod(batch.pod);
  std::this_thread::sleep_for(500ms);
  const pid_t in_batch = run_curl_in(f, batch.cgroup.get(), "gpt-4o");
  expect_names_pod(record_of(*daemon, in_batch), batch);
  const pid_t late_chat = run_curl_in(f, chat.cgroup.get(), "gpt-4o-mini");
  expect_names_pod(record_of(*daemon, late_chat), chat);

  // 4. A brand-new pod whose call finishes before the watch tells of it: the record waits for
  //    the pod (--pod-wait) and names it.
  TestPod fresh = make_pod("team-a", "fresh-0", {{"app", "chat"}});
  ChildProcess early({"curl", "-sSk", "--max-time", "20", f.url(), "-d",
                      json{{"model", "gpt-4o"}}.dump()});
  fresh.cgroup->add_process(early.pid());
  early.release();
  EXPECT_EQ(early.wait(30s).exit_code, 0);
  std::this_thread::sleep_for(300ms);
  api.add_pod(fresh.pod);
  expect_names_pod(record_of(*daemon, early.pid()), fresh);

  // 5. A cgroupfs-driver pod on a hybrid host: only the v1 hierarchies name the container.
  std::optional<pid_t> in_v1;
  TestPod v1pod = make_pod("team-v1", "legacy-0", {{"app", "legacy"}});
  if (const auto root = V1KubeletCgroup::hierarchy()) {
    api.add_pod(v1pod.pod);
    const V1KubeletCgroup v1(*root, v1pod.pod.uid, v1pod.container_id);
    std::this_thread::sleep_for(300ms);
    // /proc/PID/cgroup is read when llmtap first sees the process: this client lives on a
    // moment after its call (a process gone by then is named without its v1 container).
    const std::string body = json{{"model", "gpt-4o"}}.dump();
    ChildProcess child(
        {"python3", "-c",
         "import ssl, sys, time, http.client\n"
         "c = http.client.HTTPSConnection('127.0.0.1', int(sys.argv[1]),"
         " context=ssl._create_unverified_context())\n"
         "c.request('POST', '/v1/chat/completions', body=sys.argv[2],"
         " headers={'content-type': 'application/json'})\n"
         "c.getresponse().read()\ntime.sleep(1.5)\n",
         std::to_string(f.server->port()), body});
    v1.add_process(child.pid());
    child.release();
    EXPECT_EQ(child.wait(30s).exit_code, 0);
    in_v1 = child.pid();
    expect_names_pod(record_of(*daemon, *in_v1), v1pod);
  }

  // 6. The token rotates on the server first (the watcher's next request gets 401), a pod is
  //    added while it is locked out and the history is compacted; then the token file is
  //    rotated: the watcher reads it again, its watch from the old resourceVersion gets 410
  //    Gone, it lists again, and finds the pod it missed.
  api.set_token("token-2");
  api.close_watches();
  std::this_thread::sleep_for(200ms);
  TestPod after = make_pod("team-c", "after-rotation", {{"app", "svc"}});
  api.add_pod(after.pod);
  api.compact();
  kube.write_token("token-2");
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(api.wait_for_open_watches(1, 20s)) << daemon->stderr_text();
  const pid_t in_after = run_curl_in(f, after.cgroup.get(), "gpt-4o");
  expect_names_pod(record_of(*daemon, in_after), after);

  const auto summary = daemon->stop();
  // Policy scopes: only the team-a app=chat pods' calls matched the rule.
  EXPECT_EQ(rules_fired_for(*daemon, in_chat), std::vector<std::string>{"team-a-chat-calls"});
  EXPECT_EQ(rules_fired_for(*daemon, early.pid()),
            std::vector<std::string>{"team-a-chat-calls"});
  EXPECT_TRUE(rules_fired_for(*daemon, on_host).empty());
  EXPECT_TRUE(rules_fired_for(*daemon, in_batch).empty());
  EXPECT_TRUE(rules_fired_for(*daemon, in_after).empty());
  EXPECT_GE(summary.at("lists"), 2u);
  EXPECT_GE(summary.at("pod_waits_resolved"), 1u);
  if (in_v1) {
    EXPECT_GE(summary.at("proc_cgroup_reads"), 1u);
  }
  EXPECT_EQ(summary.at("synced"), 1u);
  EXPECT_GE(api.gone_responses(), 1u);
  EXPECT_GE(summary.at("relists_after_gone"), 1u);
  EXPECT_GE(summary.at("auth_failures"), 1u);
  EXPECT_EQ(daemon->stderr_text().find("token-1"), std::string::npos) << "token in the log";
  EXPECT_EQ(daemon->stderr_text().find("token-2"), std::string::npos) << "token in the log";
  expect_valid_ocsf(*daemon, f.dir);
}

// The API server is down when llmtap starts and comes up 10 s later: calls are reported at
// once with their container (capture never waits on the API), and with their pod once it is up.
TEST(WorkloadE2E, ApiServerDownAtStartDelaysNothingAndIsPickedUpLater) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  const uint16_t port = free_port();
  const KubeAccess kube(f.dir, "token-1");
  kube.point_at(port);
  TestPod chat = make_pod("team-a", "chat-late", {{"app", "chat"}});
  std::optional<TraceSession> daemon;
  const auto started = std::chrono::steady_clock::now();
  try {
    start_daemon(daemon, f, kube);
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }

  const pid_t before = run_curl_in(f, chat.cgroup.get(), "gpt-4o");
  const auto asked = std::chrono::steady_clock::now();
  const json early = record_of(*daemon, before, 10s);
  ASSERT_TRUE(early.is_object()) << daemon->stderr_text();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 5s) << "the record waited for the API";
  EXPECT_EQ(early["actor"]["process"]["container"].value("uid", ""), chat.container_id);
  EXPECT_EQ(early["actor"]["process"]["container"].value("pod_uuid", ""), chat.pod.uid);
  EXPECT_FALSE(early["unmapped"]["llmtap"].contains("pod"));

  std::this_thread::sleep_until(started + 10s);
  testing::FakeKubeApiOptions api_options;
  api_options.cert_file = kube.cert.string();
  api_options.key_file = kube.key.string();
  api_options.port = port;
  api_options.token = "token-1";
  FakeKubeApiServer api(api_options);
  api.add_pod(chat.pod);
  ASSERT_TRUE(api.wait_for_open_watches(1, 20s)) << daemon->stderr_text();
  const pid_t after = run_curl_in(f, chat.cgroup.get(), "gpt-4o");
  expect_names_pod(record_of(*daemon, after), chat);

  const auto summary = daemon->stop();
  EXPECT_GE(summary.at("request_errors"), 1u);
  EXPECT_EQ(summary.at("synced"), 1u);
  expect_valid_ocsf(*daemon, f.dir);
}

// `llmtap audit` in a cluster: the inventory names the pod a process belongs to (here a
// process holding a provider key in a pod's container), and its calls name the pod too.
TEST(WorkloadE2E, AuditNamesThePodsOfTheInventoryAndOfTheCalls) {
  LLMTAP_REQUIRE_ROOT();
  Fixture f;
  FakeCluster cluster(f.dir);
  const KubeAccess& kube = cluster.kube;
  FakeKubeApiServer& api = cluster.api;
  TestPod agent = make_pod("team-a", "agent-5c6d", {{"app", "agent"}});
  api.add_pod(agent.pod);
  ChildProcess key_holder({"env", "ANTHROPIC_API_KEY=sk-ant-api03-audit-pod-test-value", "sleep",
                           "120"});
  agent.cgroup->add_process(key_holder.pid());
  key_holder.release();
  const fs::path catalog = f.dir / "catalog.yaml";
  std::ofstream(catalog) << kLocalLlmCatalog;
  const fs::path report_file = f.dir / "report.json";
  std::optional<TraceSession> audit;
  try {
    audit.emplace(std::vector<std::string>{"--duration", "60", "--format", "json", "--output",
                                           report_file.string(), "--catalog", catalog.string(),
                                           "--kubeconfig", kube.kubeconfig.string(),
                                           "--node-name", kNode, "--model-root",
                                           f.dir.string()},
                  60s, std::vector<std::string>{"-v"}, "audit");
  } catch (const std::exception& e) {
    LLMTAP_BPF_UNAVAILABLE(e.what());
  }
  ASSERT_TRUE(api.wait_for_open_watches(1, 15s)) << audit->stderr_text();
  const pid_t in_pod = run_curl_in(f, agent.cgroup.get(), "gpt-4o-mini");
  std::this_thread::sleep_for(2s);
  audit->stop();
  EXPECT_EQ(audit->exit_code(), 0) << audit->stderr_text();
  std::ifstream in(report_file);
  ASSERT_TRUE(in) << audit->stderr_text();
  const json report = json::parse(in);
  auto expect_pod = [&](const json& workload, const std::string& what) {
    ASSERT_TRUE(workload.is_object()) << what << ": " << report.dump(2);
    EXPECT_EQ(workload.value("pod_name", ""), "agent-5c6d") << what;
    EXPECT_EQ(workload.value("pod_namespace", ""), "team-a") << what;
    EXPECT_EQ(workload.value("container_id", ""), agent.container_id) << what;
    EXPECT_EQ(workload.value("container_name", ""), "app") << what;
    EXPECT_EQ(workload.value("image", ""), "registry.local/agent-5c6d:1.4") << what;
  };
  bool key_seen = false;
  for (const json& k : report["inventory"]["api_keys"]) {
    if (k["pid"] != key_holder.pid()) continue;
    key_seen = true;
    EXPECT_EQ(k["provider"], "anthropic");
    expect_pod(k["workload"], "the key holder");
  }
  EXPECT_TRUE(key_seen) << report["inventory"]["api_keys"].dump(2);
  bool call_seen = false;
  for (const json& c : report["calls"]) {
    if (c["process"]["pid"] != in_pod) continue;
    call_seen = true;
    expect_pod(c["workload"], "the call");
  }
  EXPECT_TRUE(call_seen) << report["calls"].dump(2);
  key_holder.stop(SIGKILL, 1s);
}

}  // namespace
}  // namespace llmtap::e2e
