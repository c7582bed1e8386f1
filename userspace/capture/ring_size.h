#pragma once
// How large the data ring (the `events` ring buffer) is. Every record a traced process writes
// lands on the ring's next bytes and the ring is walked round and round, so each byte of it is
// cold (out of the CPU's caches and TLB) when a record reaches it again, and that first touch
// is paid inside the traced process's TLS call: the larger the ring, the more every traced
// call costs (docs/bpf-maps.md, "The ring's size and the traced process"). It must still hold
// what producers write while the agent is not running. The default is sized by the largest
// call: kRingCallsAtLimit calls at --max-bytes, and no less than kMinDefaultRingBytes.

#include <cstdint>

namespace llmtap::capture {

inline constexpr uint32_t kRingCallsAtLimit = 8;
inline constexpr uint32_t kMinDefaultRingBytes = 4u << 20;
inline constexpr uint32_t kMaxRingBytes = 1u << 30;

// The ring for calls of up to `max_bytes_per_call` captured bytes when the user named none:
// kRingCallsAtLimit of them, rounded up to a power of two, between kMinDefaultRingBytes and
// kMaxRingBytes (8 MiB with the default 1 MiB per call).
uint32_t default_ring_bytes(uint32_t max_bytes_per_call);

// The ring the kernel is asked for: `requested` (0: default_ring_bytes(max_bytes_per_call))
// rounded up to a power of two of at least a page, as BPF ring buffers must be.
uint32_t ring_bytes_for(uint32_t requested, uint32_t max_bytes_per_call, uint32_t page_bytes);

}  // namespace llmtap::capture
