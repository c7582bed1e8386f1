#include "enrich/pod_directory.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace llmtap::enrich {
namespace {

using namespace std::chrono_literals;

// A 64-hex container id made from a small number.
std::string container_id(int n) {
  std::string id = std::to_string(n);
  return std::string(64 - id.size(), 'a') + id;
}

PodRecord make_pod(const std::string& uid, const std::vector<std::string>& container_ids,
                   const std::string& name = "") {
  PodRecord pod;
  pod.uid = uid;
  pod.name = name.empty() ? "pod-" + uid : name;
  pod.namespace_name = "ml";
  pod.node_name = "worker-1";
  for (size_t i = 0; i < container_ids.size(); ++i) {
    PodContainer c;
    c.id = container_ids[i];
    c.runtime = c.id.empty() ? "" : "containerd";
    c.name = "c" + std::to_string(i);
    c.image = "image-" + std::to_string(i);
    pod.containers.push_back(std::move(c));
  }
  return pod;
}

TEST(PodDirectory, UpsertThenFindByContainerAndByUid) {
  PodDirectory pods;
  pods.upsert(make_pod("u1", {container_id(1), "", container_id(2)}, "agent"));
  pods.upsert(make_pod("u2", {container_id(3)}));

  const auto match = pods.by_container(container_id(2));
  ASSERT_TRUE(match.has_value());
  ASSERT_NE(match->pod, nullptr);
  EXPECT_EQ(match->pod->uid, "u1");
  EXPECT_EQ(match->pod->name, "agent");
  ASSERT_NE(match->container, nullptr);
  EXPECT_EQ(match->container, &match->pod->containers[2]);  // points into the record
  EXPECT_EQ(match->container->name, "c2");
  EXPECT_EQ(match->container->id, container_id(2));

  const auto other = pods.by_container(container_id(3));
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->pod->uid, "u2");
  EXPECT_EQ(other->container->name, "c0");

  EXPECT_FALSE(pods.by_container(container_id(9)).has_value());
  EXPECT_FALSE(pods.by_container("").has_value());  // a container not started yet is not indexed

  const auto by_uid = pods.by_uid("u1");
  ASSERT_NE(by_uid, nullptr);
  EXPECT_EQ(by_uid, match->pod);  // the same record, not a copy
  EXPECT_EQ(pods.by_uid("u3"), nullptr);
  EXPECT_EQ(pods.live_pods(), 2u);
  EXPECT_EQ(pods.deleted_pods(), 0u);
}

TEST(PodDirectory, AnUpdateReindexesItsContainers) {
  PodDirectory pods;
  pods.upsert(make_pod("u1", {container_id(1), ""}));
  const auto before = pods.by_uid("u1");
  // The first container restarted (new id) and the second one started.
  pods.upsert(make_pod("u1", {container_id(10), container_id(11)}, "renamed"));

  EXPECT_FALSE(pods.by_container(container_id(1)).has_value());
  const auto restarted = pods.by_container(container_id(10));
  ASSERT_TRUE(restarted.has_value());
  EXPECT_EQ(restarted->pod->name, "renamed");
  EXPECT_EQ(restarted->container->name, "c0");
  const auto started = pods.by_container(container_id(11));
  ASSERT_TRUE(started.has_value());
  EXPECT_EQ(started->container->name, "c1");

  // A reader holding the old record keeps it, unchanged.
  EXPECT_EQ(before->name, "pod-u1");
  EXPECT_EQ(before->containers[0].id, container_id(1));
  EXPECT_NE(pods.by_uid("u1"), before);
  EXPECT_EQ(pods.live_pods(), 1u);
}

TEST(PodDirectory, ARemovedPodStaysFindable) {
  PodDirectory pods;
  pods.upsert(make_pod("u1", {container_id(1)}));
  pods.upsert(make_pod("u2", {container_id(2)}));
  pods.remove("u1");

  ASSERT_NE(pods.by_uid("u1"), nullptr);
  const auto match = pods.by_container(container_id(1));
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->pod->uid, "u1");
  EXPECT_EQ(pods.live_pods(), 1u);
  EXPECT_EQ(pods.deleted_pods(), 1u);

  pods.remove("u1");  // twice: counted once
  pods.remove("never-seen");
  EXPECT_EQ(pods.live_pods(), 1u);
  EXPECT_EQ(pods.deleted_pods(), 1u);

  pods.upsert(make_pod("u1", {container_id(1)}));  // back (a late MODIFIED)
  EXPECT_EQ(pods.live_pods(), 2u);
  EXPECT_EQ(pods.deleted_pods(), 0u);
}

TEST(PodDirectory, DeletedPodsAreBoundedOldestFirst) {
  PodDirectory pods(/*max_deleted=*/2);
  for (int i = 1; i <= 4; ++i) pods.upsert(make_pod("u" + std::to_string(i), {container_id(i)}));
  pods.remove("u1");
  pods.remove("u2");
  EXPECT_EQ(pods.deleted_pods(), 2u);
  ASSERT_NE(pods.by_uid("u1"), nullptr);

  pods.remove("u3");
  EXPECT_EQ(pods.by_uid("u1"), nullptr);
  EXPECT_FALSE(pods.by_container(container_id(1)).has_value());
  EXPECT_NE(pods.by_uid("u2"), nullptr);
  EXPECT_NE(pods.by_uid("u3"), nullptr);
  EXPECT_EQ(pods.deleted_pods(), 2u);
  EXPECT_EQ(pods.live_pods(), 1u);

  pods.remove("u4");
  EXPECT_EQ(pods.by_uid("u2"), nullptr);
  EXPECT_FALSE(pods.by_container(container_id(2)).has_value());
  EXPECT_NE(pods.by_uid("u3"), nullptr);
  EXPECT_TRUE(pods.by_container(container_id(4)).has_value());
  EXPECT_EQ(pods.deleted_pods(), 2u);
  EXPECT_EQ(pods.live_pods(), 0u);
}

TEST(PodDirectory, APodDeletedAgainAfterARelistIsTheNewestDeletion) {
  PodDirectory pods(/*max_deleted=*/2);
  for (int i = 0; i <= 3; ++i) pods.upsert(make_pod("u" + std::to_string(i), {container_id(i)}));
  pods.remove("u0");
  pods.remove("u1");
  // A relist shows u1 again (u0 stays deleted).
  pods.replace_all({make_pod("u1", {container_id(1)}), make_pod("u2", {container_id(2)}),
                    make_pod("u3", {container_id(3)})});
  EXPECT_EQ(pods.deleted_pods(), 1u);
  EXPECT_EQ(pods.live_pods(), 3u);
  pods.remove("u2");
  pods.remove("u1");  // deleted again: now the newest deletion; u0 (the oldest) goes
  EXPECT_EQ(pods.by_uid("u0"), nullptr);
  EXPECT_NE(pods.by_uid("u2"), nullptr);
  EXPECT_NE(pods.by_uid("u1"), nullptr);
  pods.remove("u3");  // one too many again: u2 is the oldest now
  EXPECT_EQ(pods.by_uid("u2"), nullptr);
  EXPECT_FALSE(pods.by_container(container_id(2)).has_value());
  EXPECT_NE(pods.by_uid("u1"), nullptr);
  EXPECT_TRUE(pods.by_container(container_id(1)).has_value());
  EXPECT_NE(pods.by_uid("u3"), nullptr);
  EXPECT_EQ(pods.deleted_pods(), 2u);
  EXPECT_EQ(pods.live_pods(), 0u);
}

TEST(PodDirectory, APodDeletedAgainAfterAnUpdateIsTheNewestDeletion) {
  PodDirectory pods(/*max_deleted=*/2);
  for (int i = 0; i <= 3; ++i) pods.upsert(make_pod("u" + std::to_string(i), {container_id(i)}));
  pods.remove("u0");
  pods.remove("u1");
  pods.upsert(make_pod("u1", {container_id(1)}));
  pods.remove("u2");
  pods.remove("u1");
  pods.remove("u3");
  EXPECT_EQ(pods.by_uid("u0"), nullptr);
  EXPECT_EQ(pods.by_uid("u2"), nullptr);
  EXPECT_NE(pods.by_uid("u1"), nullptr);
  EXPECT_NE(pods.by_uid("u3"), nullptr);
  EXPECT_EQ(pods.deleted_pods(), 2u);
}

TEST(PodDirectory, NoDeletedCacheWithAZeroTtl) {
  PodDirectory pods(/*max_deleted=*/16, /*deleted_ttl=*/0s);
  pods.upsert(make_pod("u1", {container_id(1)}));
  pods.remove("u1");
  EXPECT_EQ(pods.by_uid("u1"), nullptr);
  EXPECT_FALSE(pods.by_container(container_id(1)).has_value());
  EXPECT_EQ(pods.deleted_pods(), 0u);
  EXPECT_EQ(pods.live_pods(), 0u);
}

TEST(PodDirectory, DeletedPodsExpireAtTheFirstChangeAfterTheirTtl) {
  PodDirectory pods(/*max_deleted=*/16, /*deleted_ttl=*/1s);
  pods.upsert(make_pod("u1", {container_id(1)}));
  pods.remove("u1");
  pods.upsert(make_pod("u2", {container_id(2)}));
  EXPECT_NE(pods.by_uid("u1"), nullptr);  // within its ttl
  std::this_thread::sleep_for(1100ms);
  EXPECT_NE(pods.by_uid("u1"), nullptr);  // expiry happens on changes, not on reads
  EXPECT_EQ(pods.deleted_pods(), 1u);
  pods.upsert(make_pod("u3", {container_id(3)}));
  EXPECT_EQ(pods.by_uid("u1"), nullptr);
  EXPECT_FALSE(pods.by_container(container_id(1)).has_value());
  EXPECT_EQ(pods.deleted_pods(), 0u);
  EXPECT_EQ(pods.live_pods(), 2u);
}

TEST(PodDirectory, ReplaceAllDeletesTheUnlistedAndRevivesTheListed) {
  PodDirectory pods;
  pods.upsert(make_pod("a", {container_id(1)}));
  pods.upsert(make_pod("b", {container_id(2)}));
  pods.upsert(make_pod("c", {container_id(3)}));
  pods.remove("c");
  ASSERT_EQ(pods.deleted_pods(), 1u);

  pods.replace_all({make_pod("a", {container_id(4)}, "a-v2"), make_pod("c", {container_id(3)}),
                    make_pod("d", {container_id(5)})});
  EXPECT_EQ(pods.live_pods(), 3u);     // a, c (revived), d
  EXPECT_EQ(pods.deleted_pods(), 1u);  // b: deleted while nobody watched
  ASSERT_NE(pods.by_uid("b"), nullptr);
  EXPECT_EQ(pods.by_container(container_id(2))->pod->uid, "b");
  EXPECT_EQ(pods.by_uid("a")->name, "a-v2");
  EXPECT_FALSE(pods.by_container(container_id(1)).has_value());
  EXPECT_EQ(pods.by_container(container_id(4))->pod->uid, "a");
  EXPECT_EQ(pods.by_container(container_id(3))->pod->uid, "c");
  EXPECT_EQ(pods.by_container(container_id(5))->pod->uid, "d");

  pods.replace_all({});
  EXPECT_EQ(pods.live_pods(), 0u);
  EXPECT_EQ(pods.deleted_pods(), 4u);
  EXPECT_NE(pods.by_uid("d"), nullptr);
}

TEST(PodDirectory, GenerationMovesOnEveryChange) {
  PodDirectory pods;
  uint64_t last = pods.generation();
  const auto moved = [&] {
    const uint64_t now = pods.generation();
    const bool up = now > last;
    last = now;
    return up;
  };
  pods.upsert(make_pod("u1", {container_id(1)}));
  EXPECT_TRUE(moved());
  pods.upsert(make_pod("u1", {container_id(1)}, "again"));
  EXPECT_TRUE(moved());
  pods.remove("u1");
  EXPECT_TRUE(moved());
  pods.replace_all({make_pod("u2", {})});
  EXPECT_TRUE(moved());
  pods.replace_all({});
  EXPECT_TRUE(moved());
  // Reads change nothing.
  pods.by_uid("u2");
  pods.by_container(container_id(1));
  pods.live_pods();
  EXPECT_FALSE(moved());
}

TEST(PodDirectory, ReadersWhileTheWatcherWrites) {
  PodDirectory pods(/*max_deleted=*/8);
  constexpr int kChanges = 10000;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < kChanges; ++i) {
      const std::string uid = "u" + std::to_string(i % 16);
      if (i % 3 == 2) {
        pods.remove(uid);
      } else {
        pods.upsert(make_pod(uid, {container_id(i % 16), container_id(100 + i % 7)}));
      }
      if (i % 1000 == 999) pods.replace_all({make_pod("u0", {container_id(0)})});
    }
    done.store(true);
  });
  uint64_t lookups = 0;
  bool consistent = true;
  while (!done.load()) {
    for (int n = 0; n < 16; ++n) {
      ++lookups;
      if (const auto match = pods.by_container(container_id(n))) {
        // The match and its container come from one record, whatever the writer does meanwhile.
        if (match->container == nullptr || match->container->id != container_id(n) ||
            match->pod->uid != "u" + std::to_string(n)) {
          consistent = false;
        }
      }
      pods.by_uid("u" + std::to_string(n));
    }
    pods.generation();
    pods.live_pods();
  }
  writer.join();
  EXPECT_TRUE(consistent);
  EXPECT_GT(lookups, 0u);
  EXPECT_LE(pods.deleted_pods(), 8u);
}

}  // namespace
}  // namespace llmtap::enrich
