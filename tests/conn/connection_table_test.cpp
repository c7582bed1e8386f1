#include "conn/connection_table.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace llmtap::conn {
namespace {

capture::TlsCall call_on(uint32_t pid, uint64_t ssl, uint64_t conn_id, capture::Direction dir,
                         uint32_t len, uint64_t mono_ns) {
  capture::TlsCall call;
  call.pid = pid;
  call.ssl = ssl;
  call.conn_id = conn_id;
  call.direction = dir;
  call.call_len = len;
  call.mono_ns = mono_ns;
  call.fd = 7;
  call.remote.family = AF_INET;
  call.remote.port = 443;
  return call;
}

capture::TlsClose close_of(uint32_t pid, uint64_t ssl) {
  capture::TlsClose close;
  close.pid = pid;
  close.ssl = ssl;
  return close;
}

TEST(ConnectionTable, AccumulatesCallsUntilClose) {
  ConnectionTable table;
  table.on_call(call_on(1, 0xa, 5, capture::Direction::kWrite, 100, 10));
  const auto& state = table.on_call(call_on(1, 0xa, 5, capture::Direction::kRead, 300, 20));
  EXPECT_EQ(state.id, 5u);
  EXPECT_EQ(state.calls, 2u);
  EXPECT_EQ(state.bytes_written, 100u);
  EXPECT_EQ(state.bytes_read, 300u);
  EXPECT_EQ(state.first_mono_ns, 10u);
  EXPECT_EQ(state.last_mono_ns, 20u);
  EXPECT_EQ(state.remote.port, 443);

  const auto closed = table.on_close(close_of(1, 0xa));
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->calls, 2u);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.on_close(close_of(1, 0xa)).has_value()) << "closed once";
}

TEST(ConnectionTable, SameSslInTwoProcessesIsTwoConnections) {
  ConnectionTable table;
  table.on_call(call_on(1, 0xa, 5, capture::Direction::kWrite, 1, 1));
  table.on_call(call_on(2, 0xa, 6, capture::Direction::kWrite, 1, 1));
  EXPECT_EQ(table.size(), 2u);
}

TEST(ConnectionTable, ReusedSslWithANewIdStartsAfresh) {
  ConnectionTable table;
  table.on_call(call_on(1, 0xa, 5, capture::Direction::kWrite, 100, 1));
  const auto& state = table.on_call(call_on(1, 0xa, 9, capture::Direction::kWrite, 7, 50));
  EXPECT_EQ(state.id, 9u);
  EXPECT_EQ(state.calls, 1u);
  EXPECT_EQ(state.bytes_written, 7u);
  EXPECT_EQ(state.first_mono_ns, 50u);
}

TEST(ConnectionTable, ProcessExitEndsAllItsConnections) {
  ConnectionTable table;
  table.on_call(call_on(1, 0xa, 5, capture::Direction::kWrite, 1, 1));
  table.on_call(call_on(1, 0xb, 6, capture::Direction::kWrite, 1, 1));
  table.on_call(call_on(2, 0xa, 7, capture::Direction::kWrite, 1, 1));
  EXPECT_EQ(table.on_process_exit(1).size(), 2u);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_TRUE(table.on_process_exit(1).empty());
}

TEST(ConnectionTable, FullTableEvictsTheLeastRecentlyUsed) {
  ConnectionTable table(2);
  table.on_call(call_on(1, 0xa, 1, capture::Direction::kWrite, 1, 10));
  table.on_call(call_on(1, 0xb, 2, capture::Direction::kWrite, 1, 20));
  table.on_call(call_on(1, 0xa, 1, capture::Direction::kWrite, 1, 30));  // 0xa now newer
  table.on_call(call_on(1, 0xc, 3, capture::Direction::kWrite, 1, 40));
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.evicted(), 1u);
  EXPECT_FALSE(table.on_close(close_of(1, 0xb)).has_value()) << "0xb was the oldest";
  EXPECT_TRUE(table.on_close(close_of(1, 0xa)).has_value());
}

}  // namespace
}  // namespace llmtap::conn
