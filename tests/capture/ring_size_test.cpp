#include "capture/ring_size.h"

#include <gtest/gtest.h>

namespace llmtap::capture {
namespace {

TEST(RingSize, TheDefaultHoldsThirtyTwoCallsAtTheLimit) {
  EXPECT_EQ(default_ring_bytes(1u << 20), 32u << 20);  // the default --max-bytes
  EXPECT_EQ(default_ring_bytes(2u << 20), 64u << 20);
  // Rounded up to a power of two: 32 x 1.5 MiB = 48 MiB -> 64 MiB.
  EXPECT_EQ(default_ring_bytes(3u << 19), 64u << 20);
  EXPECT_EQ(default_ring_bytes((1u << 20) + 1), 64u << 20);
}

TEST(RingSize, TheDefaultIsNeverBelowThirtyTwoMiBNorAbove256MiB) {
  EXPECT_EQ(default_ring_bytes(1), kMinDefaultRingBytes);
  EXPECT_EQ(default_ring_bytes(64u << 10), kMinDefaultRingBytes);  // 32 x 64 KiB = 2 MiB
  EXPECT_EQ(default_ring_bytes(1u << 20), kMinDefaultRingBytes);
  EXPECT_EQ(default_ring_bytes(8u << 20), 256u << 20);
  EXPECT_EQ(default_ring_bytes((8u << 20) + 1), kMaxDefaultRingBytes);
  EXPECT_EQ(default_ring_bytes(64u << 20), kMaxDefaultRingBytes);  // the largest --max-bytes
  EXPECT_EQ(default_ring_bytes(UINT32_MAX), kMaxDefaultRingBytes);  // no overflow past 4 GiB
}

TEST(RingSize, ANamedSizeIsKeptAndRoundedUpToAPowerOfTwoOfAtLeastAPage) {
  EXPECT_EQ(ring_bytes_for(0, 1u << 20, 4096), 32u << 20);
  EXPECT_EQ(ring_bytes_for(0, 4u << 20, 4096), 128u << 20);
  EXPECT_EQ(ring_bytes_for(8u << 20, 1u << 20, 4096), 8u << 20);
  EXPECT_EQ(ring_bytes_for(65536, 1u << 20, 4096), 65536u);  // smaller than the default: kept
  EXPECT_EQ(ring_bytes_for(65537, 1u << 20, 4096), 131072u);
  EXPECT_EQ(ring_bytes_for(1, 1u << 20, 4096), 4096u);
  EXPECT_EQ(ring_bytes_for(1, 1u << 20, 65536), 65536u);  // 64 KiB pages
  EXPECT_EQ(ring_bytes_for(1u << 30, 1u << 20, 4096), 1u << 30);  // named: past the default's cap
  EXPECT_EQ(ring_bytes_for(UINT32_MAX, 1u << 20, 4096), kMaxRingBytes);
}

}  // namespace
}  // namespace llmtap::capture
