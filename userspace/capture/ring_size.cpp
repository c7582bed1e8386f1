#include "capture/ring_size.h"

#include <algorithm>
#include <bit>

namespace llmtap::capture {

uint32_t default_ring_bytes(uint32_t max_bytes_per_call) {
  const uint64_t want = uint64_t{kRingCallsAtLimit} * max_bytes_per_call;
  const uint64_t clamped =
      std::clamp<uint64_t>(want, kMinDefaultRingBytes, kMaxDefaultRingBytes);
  return static_cast<uint32_t>(std::bit_ceil(clamped));
}

uint32_t ring_bytes_for(uint32_t requested, uint32_t max_bytes_per_call, uint32_t page_bytes) {
  if (requested == 0) return default_ring_bytes(max_bytes_per_call);
  const uint32_t at_least = std::max(std::min(requested, kMaxRingBytes), page_bytes);
  return std::bit_ceil(at_least);
}

}  // namespace llmtap::capture
