#include "pipeline/pod_wait_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "enrich/pod_directory.h"

namespace llmtap::pipeline {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kMs = 1'000'000;

// Cgroup 1: a container of pod A; cgroup 2: a container of pod B; cgroup 3: the host.
constexpr char kPodA[] = "566bf9d7-c55a-45f8-91a6-e55e9b9b1325";
constexpr char kIdA[] = "84bba07931db925306a0799dc6ebd718b8c764d1c0acb3dea13519a60a077bbd";
constexpr char kPathA[] =
    "/kubepods.slice/kubepods-burstable.slice/"
    "kubepods-burstable-pod566bf9d7_c55a_45f8_91a6_e55e9b9b1325.slice/"
    "cri-containerd-84bba07931db925306a0799dc6ebd718b8c764d1c0acb3dea13519a60a077bbd.scope";
constexpr char kPodB[] = "31643087-af6f-4ad0-9f20-c770621477ba";
constexpr char kIdB[] = "de0703b4ab7ed013e50181d960e9558c1530a493afbb8b64cb580fac27cd8995";
constexpr char kPathB[] =
    "/kubepods.slice/kubepods-besteffort.slice/"
    "kubepods-besteffort-pod31643087_af6f_4ad0_9f20_c770621477ba.slice/"
    "cri-containerd-de0703b4ab7ed013e50181d960e9558c1530a493afbb8b64cb580fac27cd8995.scope";

enrich::PodRecord pod(const std::string& uid, const std::string& name,
                      const std::string& container_id) {
  enrich::PodRecord p;
  p.uid = uid;
  p.name = name;
  p.namespace_name = "ml";
  p.containers.push_back({container_id, "containerd", "main", "img:1", "sha256:aa"});
  return p;
}

struct Emitted {
  llm::LlmCall call;
  std::string request;
  std::string response;
};

class PodWaitQueueTest : public ::testing::Test {
 protected:
  PodWaitQueueTest()
      : resolver_(
            [](uint64_t id) -> std::optional<std::string> {
              if (id == 1) return kPathA;
              if (id == 2) return kPathB;
              if (id == 3) return "/user.slice/user-1000.slice/session-2.scope";
              return std::nullopt;
            },
            {}, &pods_) {}

  std::unique_ptr<PodWaitQueue> make_queue(std::chrono::milliseconds wait = 500ms,
                                           size_t max_records = 256,
                                           size_t max_bytes = size_t{16} << 20) {
    return std::make_unique<PodWaitQueue>(
        resolver_, [this] { return api_live_; }, wait,
        [this](const llm::LlmCall& call, const llm::CallBodies& bodies) {
          emitted_.push_back({call, std::string(bodies.request), std::string(bodies.response)});
        },
        max_records, max_bytes);
  }

  llm::LlmCall call(uint64_t sequence, uint64_t cgroup_id) {
    llm::LlmCall c;
    c.sequence = sequence;
    c.process.pid = 4000 + static_cast<uint32_t>(sequence);
    c.process.cgroup_id = cgroup_id;
    c.process.workload = resolver_.resolve(c.process.pid, cgroup_id);
    c.request_model = "gpt-4o-mini";
    return c;
  }

  enrich::PodDirectory pods_;
  enrich::WorkloadResolver resolver_;
  bool api_live_ = true;
  std::vector<Emitted> emitted_;
};

TEST_F(PodWaitQueueTest, AWaitingRecordLeavesWithItsPodOnceKnown) {
  auto queue = make_queue();
  const llm::LlmCall c = call(1, 1);
  ASSERT_TRUE(resolver_.pod_pending(*c.process.workload));
  queue->submit(c, {"{\"model\":\"gpt-4o-mini\"}", "{\"id\":\"chatcmpl-1\"}"}, 1000 * kMs);
  EXPECT_TRUE(emitted_.empty());
  EXPECT_EQ(queue->size(), 1u);
  EXPECT_EQ(queue->stats().waited, 1u);

  queue->poll(1100 * kMs);  // the pod is still unknown
  EXPECT_TRUE(emitted_.empty());

  pods_.upsert(pod(kPodA, "agent-0", kIdA));
  queue->poll(1200 * kMs);
  ASSERT_EQ(emitted_.size(), 1u);
  EXPECT_EQ(queue->size(), 0u);
  const Emitted& out = emitted_[0];
  EXPECT_EQ(out.call.sequence, 1u);
  EXPECT_EQ(out.call.request_model, "gpt-4o-mini");
  ASSERT_NE(out.call.process.workload, nullptr);
  EXPECT_EQ(out.call.process.workload->pod_name, "agent-0");
  EXPECT_EQ(out.call.process.workload->pod_namespace, "ml");
  EXPECT_EQ(out.call.process.workload->container_name, "main");
  EXPECT_EQ(out.call.process.workload->container_runtime, "containerd");
  EXPECT_EQ(out.request, "{\"model\":\"gpt-4o-mini\"}");
  EXPECT_EQ(out.response, "{\"id\":\"chatcmpl-1\"}");
  EXPECT_EQ(queue->stats().resolved, 1u);
  EXPECT_EQ(queue->stats().timed_out, 0u);
}

TEST_F(PodWaitQueueTest, AWaitingRecordLeavesWithoutItsPodWhenTheWaitIsOver) {
  auto queue = make_queue(500ms);
  queue->submit(call(1, 1), {"req", "resp"}, 1000 * kMs);
  queue->poll(1499 * kMs);
  EXPECT_TRUE(emitted_.empty());
  queue->poll(1500 * kMs);
  ASSERT_EQ(emitted_.size(), 1u);
  const auto& w = emitted_[0].call.process.workload;
  ASSERT_NE(w, nullptr);
  EXPECT_FALSE(w->pod_known());
  EXPECT_EQ(w->pod_uid, kPodA);  // what the cgroup path said is kept
  EXPECT_EQ(w->container_id, kIdA);
  EXPECT_EQ(emitted_[0].request, "req");
  EXPECT_EQ(emitted_[0].response, "resp");
  EXPECT_EQ(queue->stats().waited, 1u);
  EXPECT_EQ(queue->stats().timed_out, 1u);
  EXPECT_EQ(queue->stats().resolved, 0u);
}

TEST_F(PodWaitQueueTest, BodiesAreCopiedWhileTheyWait) {
  auto queue = make_queue();
  {
    std::string request(100000, 'q');
    request.replace(0, 9, "{\"a\":\"b\"}");
    std::string response = "data: {\"x\":1}\n\ndata: [DONE]\n\n";
    response.push_back('\0');
    response += "after nul";
    queue->submit(call(1, 1), {request, response}, 0);
    // The caller's buffers are reused as soon as submit returns.
    request.assign(request.size(), 'Z');
    response.assign(5, 'Z');
  }
  queue->poll(1000 * kMs);
  ASSERT_EQ(emitted_.size(), 1u);
  std::string expected_request(100000, 'q');
  expected_request.replace(0, 9, "{\"a\":\"b\"}");
  EXPECT_EQ(emitted_[0].request, expected_request);
  EXPECT_EQ(emitted_[0].response,
            std::string("data: {\"x\":1}\n\ndata: [DONE]\n\n\0after nul", 39));
}

TEST_F(PodWaitQueueTest, RecordsLeaveInArrivalOrder) {
  auto queue = make_queue(500ms);
  queue->submit(call(1, 1), {"1", ""}, 1000 * kMs);
  queue->submit(call(2, 2), {"2", ""}, 1100 * kMs);
  queue->submit(call(3, 1), {"3", ""}, 1200 * kMs);
  EXPECT_EQ(queue->size(), 3u);

  // Pod B is known first, but its record is behind one of pod A's.
  pods_.upsert(pod(kPodB, "b-0", kIdB));
  queue->poll(1300 * kMs);
  EXPECT_TRUE(emitted_.empty());

  queue->poll(1500 * kMs);  // record 1's wait is over; then 2 (pod known); 3 waits on
  ASSERT_EQ(emitted_.size(), 2u);
  EXPECT_EQ(emitted_[0].call.sequence, 1u);
  EXPECT_FALSE(emitted_[0].call.process.workload->pod_known());
  EXPECT_EQ(emitted_[1].call.sequence, 2u);
  EXPECT_EQ(emitted_[1].call.process.workload->pod_name, "b-0");
  EXPECT_EQ(queue->size(), 1u);

  pods_.upsert(pod(kPodA, "a-0", kIdA));
  queue->poll(1501 * kMs);
  ASSERT_EQ(emitted_.size(), 3u);
  EXPECT_EQ(emitted_[2].call.sequence, 3u);
  EXPECT_EQ(emitted_[2].call.process.workload->pod_name, "a-0");
  EXPECT_EQ(queue->stats().waited, 3u);
  EXPECT_EQ(queue->stats().resolved, 2u);
  EXPECT_EQ(queue->stats().timed_out, 1u);
}

TEST_F(PodWaitQueueTest, AFullQueueLetsRecordsThroughAtOnce) {
  auto queue = make_queue(500ms, /*max_records=*/2);
  queue->submit(call(1, 1), {"1", ""}, 0);
  queue->submit(call(2, 1), {"2", ""}, 0);
  queue->submit(call(3, 1), {"3", "three"}, 0);
  ASSERT_EQ(emitted_.size(), 1u);
  EXPECT_EQ(emitted_[0].call.sequence, 3u);
  EXPECT_EQ(emitted_[0].request, "3");
  EXPECT_EQ(emitted_[0].response, "three");
  EXPECT_EQ(queue->size(), 2u);
  EXPECT_EQ(queue->stats().overflow, 1u);
  EXPECT_EQ(queue->stats().waited, 2u);
}

TEST_F(PodWaitQueueTest, TooManyBytesLetRecordsThroughAtOnce) {
  auto queue = make_queue(500ms, /*max_records=*/256, /*max_bytes=*/10);
  queue->submit(call(1, 1), {"abcd", "ef"}, 0);  // 6 bytes: waits
  queue->submit(call(2, 1), {"abc", "de"}, 0);   // 11 in all: through
  queue->submit(call(3, 1), {"abcd", ""}, 0);    // 10 in all: waits
  ASSERT_EQ(emitted_.size(), 1u);
  EXPECT_EQ(emitted_[0].call.sequence, 2u);
  EXPECT_EQ(queue->stats().overflow, 1u);
  EXPECT_EQ(queue->size(), 2u);

  queue->poll(500 * kMs);  // both leave: their bytes are free again
  EXPECT_EQ(emitted_.size(), 3u);
  queue->submit(call(4, 1), {"0123456789", ""}, 600 * kMs);
  EXPECT_EQ(queue->size(), 1u);
  queue->submit(call(5, 1), {std::string(11, 'x'), ""}, 600 * kMs);  // alone too big
  EXPECT_EQ(emitted_.size(), 4u);
  EXPECT_EQ(queue->stats().overflow, 2u);
}

TEST_F(PodWaitQueueTest, OnlyPendingPodsWait) {
  auto queue = make_queue();
  pods_.upsert(pod(kPodB, "b-0", kIdB));
  queue->submit(call(1, 2), {"known", ""}, 0);  // pod already known
  queue->submit(call(2, 3), {"host", ""}, 0);   // a host process
  llm::LlmCall unresolved;
  unresolved.sequence = 3;
  queue->submit(unresolved, {"none", ""}, 0);  // no workload at all
  ASSERT_EQ(emitted_.size(), 3u);
  EXPECT_EQ(emitted_[0].call.process.workload->pod_name, "b-0");
  EXPECT_EQ(emitted_[1].call.process.workload, nullptr);
  EXPECT_EQ(emitted_[1].request, "host");
  EXPECT_EQ(emitted_[2].call.sequence, 3u);
  EXPECT_EQ(queue->size(), 0u);
  EXPECT_EQ(queue->stats().waited, 0u);
  EXPECT_EQ(queue->stats().overflow, 0u);
}

TEST_F(PodWaitQueueTest, NoWaitingWhenTheApiIsNotLive) {
  auto queue = make_queue();
  api_live_ = false;
  queue->submit(call(1, 1), {"r", ""}, 0);
  ASSERT_EQ(emitted_.size(), 1u);
  EXPECT_FALSE(emitted_[0].call.process.workload->pod_known());
  EXPECT_EQ(queue->stats().waited, 0u);

  api_live_ = true;
  queue->submit(call(2, 1), {"r", ""}, 0);
  EXPECT_EQ(emitted_.size(), 1u);
  EXPECT_EQ(queue->size(), 1u);
}

TEST_F(PodWaitQueueTest, NoWaitingWithAZeroWait) {
  auto queue = make_queue(0ms);
  queue->submit(call(1, 1), {"r", "s"}, 0);
  ASSERT_EQ(emitted_.size(), 1u);
  EXPECT_EQ(emitted_[0].request, "r");
  EXPECT_EQ(emitted_[0].response, "s");
  EXPECT_EQ(queue->size(), 0u);
  EXPECT_EQ(queue->stats().waited, 0u);
}

TEST_F(PodWaitQueueTest, FlushLetsEverythingGo) {
  auto queue = make_queue(10s);
  queue->submit(call(1, 1), {"1", ""}, 0);
  queue->submit(call(2, 2), {"2", ""}, 0);
  queue->submit(call(3, 1), {"3", ""}, 0);
  pods_.upsert(pod(kPodB, "b-0", kIdB));
  queue->flush();
  ASSERT_EQ(emitted_.size(), 3u);
  EXPECT_EQ(emitted_[0].call.sequence, 1u);
  EXPECT_EQ(emitted_[1].call.sequence, 2u);
  EXPECT_EQ(emitted_[2].call.sequence, 3u);
  EXPECT_EQ(emitted_[0].request, "1");
  EXPECT_FALSE(emitted_[0].call.process.workload->pod_known());
  EXPECT_EQ(emitted_[1].call.process.workload->pod_name, "b-0");
  EXPECT_EQ(queue->size(), 0u);
  EXPECT_EQ(queue->stats().resolved, 1u);
  EXPECT_EQ(queue->stats().timed_out, 2u);

  // Empty again: byte accounting starts over.
  queue->flush();
  EXPECT_EQ(emitted_.size(), 3u);
  queue->poll(100 * 1000 * kMs);
  EXPECT_EQ(emitted_.size(), 3u);
}

}  // namespace
}  // namespace llmtap::pipeline
