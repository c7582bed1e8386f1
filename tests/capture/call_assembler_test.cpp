#include "capture/call_assembler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "llmtap_abi.h"

namespace llmtap::capture {
namespace {

// Builds ring-buffer records exactly as the BPF program lays them out.
std::vector<std::byte> data_record(uint32_t tid, uint64_t call_id, uint32_t offset,
                                   uint32_t total, char fill) {
  std::vector<std::byte> rec(sizeof(llmtap_data_record));
  llmtap_record_header hdr{LLMTAP_REC_DATA, tid, call_id, offset, LLMTAP_CHUNK_SIZE, total, 0};
  std::memcpy(rec.data(), &hdr, sizeof(hdr));
  std::memset(rec.data() + offsetof(llmtap_data_record, data), fill, LLMTAP_CHUNK_SIZE);
  return rec;
}

// A CALL record with `tail` bytes; `reserved_tail` mimics the size-class padding (the
// reservation is never smaller than the tail: a test that wants a record too short for the
// tail its header claims cuts the returned record itself).
std::vector<std::byte> call_record(uint32_t tid, uint64_t call_id, uint32_t offset,
                                   const std::string& tail, uint32_t call_len,
                                   size_t reserved_tail = 4096, uint32_t flags = 0) {
  std::vector<std::byte> rec(sizeof(llmtap_call_record) + std::max(reserved_tail, tail.size()));
  llmtap_call_record c{};
  c.hdr = {LLMTAP_REC_CALL, tid, call_id, offset, static_cast<uint32_t>(tail.size()),
           offset + static_cast<uint32_t>(tail.size()), 0};
  c.mono_ns = 42;
  c.pid = 1000;
  c.uid = 7;
  c.call_len = call_len;
  c.captured_len = offset + static_cast<uint32_t>(tail.size());
  c.flags = flags;
  c.fd = 5;
  c.direction = LLMTAP_DIR_READ;
  c.lib = LLMTAP_LIB_OPENSSL;
  std::strcpy(c.comm, "curl");
  std::memcpy(rec.data(), &c, sizeof(c));
  std::memcpy(rec.data() + offsetof(llmtap_call_record, data), tail.data(), tail.size());
  return rec;
}

struct Collected {
  std::vector<TlsCall> calls;
  std::vector<std::string> data;
};

class CallAssemblerTest : public ::testing::Test {
 protected:
  Collected out;
  CallAssembler assembler{[this](const TlsCall& call) {
    out.calls.push_back(call);
    out.data.emplace_back(call.data);
  }};
};

TEST_F(CallAssemblerTest, SingleRecordCallIsEmittedWithItsMetadata) {
  assembler.feed(call_record(11, 1, 0, "hello", 5));
  ASSERT_EQ(out.calls.size(), 1u);
  EXPECT_EQ(out.data[0], "hello");
  EXPECT_EQ(out.calls[0].pid, 1000u);
  EXPECT_EQ(out.calls[0].tid, 11u);
  EXPECT_EQ(out.calls[0].comm, "curl");
  EXPECT_EQ(out.calls[0].direction, Direction::kRead);
  EXPECT_EQ(out.calls[0].lib, TlsLib::kOpenSsl);
  EXPECT_FALSE(out.calls[0].truncated);
}

TEST_F(CallAssemblerTest, JoinsDataRecordsAndTailInOrder) {
  const uint32_t total = 2 * LLMTAP_CHUNK_SIZE + 3;
  assembler.feed(data_record(11, 9, 0, total, 'a'));
  assembler.feed(data_record(11, 9, LLMTAP_CHUNK_SIZE, total, 'b'));
  EXPECT_TRUE(out.calls.empty());
  assembler.feed(call_record(11, 9, 2 * LLMTAP_CHUNK_SIZE, "xyz", total));
  ASSERT_EQ(out.calls.size(), 1u);
  EXPECT_EQ(out.data[0], std::string(LLMTAP_CHUNK_SIZE, 'a') + std::string(LLMTAP_CHUNK_SIZE, 'b') +
                             "xyz");
  EXPECT_EQ(assembler.pending_calls(), 0u);
}

TEST_F(CallAssemblerTest, InterleavedThreadsAreJoinedSeparately) {
  const uint32_t total = LLMTAP_CHUNK_SIZE + 1;
  assembler.feed(data_record(1, 100, 0, total, 'a'));
  assembler.feed(data_record(2, 200, 0, total, 'b'));
  assembler.feed(call_record(2, 200, LLMTAP_CHUNK_SIZE, "B", total));
  assembler.feed(call_record(1, 100, LLMTAP_CHUNK_SIZE, "A", total));
  ASSERT_EQ(out.calls.size(), 2u);
  EXPECT_EQ(out.data[0], std::string(LLMTAP_CHUNK_SIZE, 'b') + "B");
  EXPECT_EQ(out.data[1], std::string(LLMTAP_CHUNK_SIZE, 'a') + "A");
}

TEST_F(CallAssemblerTest, DataWhoseCallRecordWasLostIsCountedAsOrphaned) {
  const uint32_t total = LLMTAP_CHUNK_SIZE + 1;
  assembler.feed(data_record(1, 100, 0, total, 'a'));
  // The thread's next call arrives: the first one's CALL record never will.
  assembler.feed(call_record(1, 101, 0, "next", 4));
  ASSERT_EQ(out.calls.size(), 1u);
  EXPECT_EQ(out.data[0], "next");
  EXPECT_EQ(assembler.stats().orphaned_records, 1u);
  EXPECT_EQ(assembler.stats().orphaned_bytes, LLMTAP_CHUNK_SIZE);
}

TEST_F(CallAssemblerTest, LostTailKeepsTheDeliveredPrefixAndReportsTheLoss) {
  // BPF stopped after one DATA record: the CALL record has no tail and says what is lost.
  const uint32_t total = 3 * LLMTAP_CHUNK_SIZE;
  assembler.feed(data_record(1, 5, 0, total, 'p'));
  auto rec = call_record(1, 5, LLMTAP_CHUNK_SIZE, "", total, 64, LLMTAP_CALL_LOST);
  llmtap_call_record c;
  std::memcpy(&c, rec.data(), sizeof(c));
  c.lost_len = 2 * LLMTAP_CHUNK_SIZE;
  std::memcpy(rec.data(), &c, sizeof(c));
  assembler.feed(rec);
  ASSERT_EQ(out.calls.size(), 1u);
  EXPECT_EQ(out.data[0].size(), LLMTAP_CHUNK_SIZE);
  EXPECT_EQ(out.calls[0].lost_len, 2 * LLMTAP_CHUNK_SIZE);
}

TEST_F(CallAssemblerTest, TruncatedFlagIsCarried) {
  assembler.feed(call_record(1, 5, 0, "abc", 100, 64, LLMTAP_CALL_TRUNCATED));
  ASSERT_EQ(out.calls.size(), 1u);
  EXPECT_TRUE(out.calls[0].truncated);
  EXPECT_EQ(out.calls[0].call_len, 100u);
}

TEST_F(CallAssemblerTest, GapBeforeAndEntryTimeAreCarried) {
  auto rec = call_record(1, 6, 0, "abc", 3, 64, LLMTAP_CALL_GAP_BEFORE);
  uint64_t entry = 40;
  std::memcpy(rec.data() + offsetof(llmtap_call_record, entry_ns), &entry, sizeof(entry));
  assembler.feed(rec);
  ASSERT_EQ(out.calls.size(), 1u);
  EXPECT_TRUE(out.calls[0].gap_before);
  EXPECT_EQ(out.calls[0].entry_mono_ns, 40u);
  EXPECT_EQ(out.calls[0].mono_ns, 42u);
  assembler.feed(call_record(1, 7, 0, "abc", 3));
  EXPECT_FALSE(out.calls[1].gap_before);
  assembler.feed(call_record(1, 8, 0, "", 5000, 0, LLMTAP_CALL_QUIET));
  ASSERT_EQ(out.calls.size(), 3u);
  EXPECT_TRUE(out.calls[2].quiet);
  EXPECT_EQ(out.calls[2].call_len, 5000u);
  EXPECT_TRUE(out.calls[2].data.empty());
}

TEST_F(CallAssemblerTest, MalformedRecordsAreCountedNotEmitted) {
  assembler.feed(std::vector<std::byte>(3));  // shorter than a header
  auto unknown = call_record(1, 1, 0, "x", 1);
  uint32_t kind = 77;
  std::memcpy(unknown.data(), &kind, sizeof(kind));
  assembler.feed(unknown);
  auto overlong = call_record(1, 2, 0, "x", 1, 0);
  overlong.resize(offsetof(llmtap_call_record, data));  // claims 1 byte of tail, has none
  assembler.feed(overlong);
  assembler.feed(data_record(1, 3, LLMTAP_CHUNK_SIZE, 2 * LLMTAP_CHUNK_SIZE, 'z'));  // no start
  EXPECT_TRUE(out.calls.empty());
  EXPECT_EQ(assembler.stats().malformed_records, 4u);
}

TEST_F(CallAssemblerTest, CallRecordAtWrongOffsetDropsThePartial) {
  const uint32_t total = 2 * LLMTAP_CHUNK_SIZE + 1;
  assembler.feed(data_record(1, 8, 0, total, 'a'));
  assembler.feed(call_record(1, 8, 2 * LLMTAP_CHUNK_SIZE, "x", total));  // a piece is missing
  EXPECT_TRUE(out.calls.empty());
  EXPECT_EQ(assembler.stats().malformed_records, 1u);
  EXPECT_EQ(assembler.stats().orphaned_records, 1u);
}

TEST_F(CallAssemblerTest, FlushCountsPendingAsOrphaned) {
  assembler.feed(data_record(1, 8, 0, LLMTAP_CHUNK_SIZE + 1, 'a'));
  assembler.flush();
  EXPECT_EQ(assembler.pending_calls(), 0u);
  EXPECT_EQ(assembler.stats().orphaned_records, 1u);
}

TEST_F(CallAssemblerTest, GarbageNeverCrashes) {
  std::vector<std::byte> buf(300);
  uint64_t state = 12345;
  for (int round = 0; round < 20000; ++round) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    buf.resize(state % 300);
    for (auto& b : buf) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      b = static_cast<std::byte>(state >> 56);
    }
    if (buf.size() >= 4) {  // make half of them look like real kinds
      const uint32_t kind = 1 + (state >> 40) % 2;
      std::memcpy(buf.data(), &kind, sizeof(kind));
    }
    assembler.feed(buf);
  }
  SUCCEED();
}

}  // namespace
}  // namespace llmtap::capture
