#pragma once
// How large the data ring (the `events` ring buffer) is. It must hold what producers write
// while the agent is not running; a call can put up to --max-bytes into it at once. The
// default is sized by the largest call: kRingCallsAtLimit calls at --max-bytes, and no less
// than kMinDefaultRingBytes (docs/bpf-maps.md, "The ring's size and the traced process").

#include <cstdint>

namespace llmtap::capture {

inline constexpr uint32_t kRingCallsAtLimit = 32;
inline constexpr uint32_t kMinDefaultRingBytes = 32u << 20;
// A default never takes more: the ring is locked kernel memory charged to the agent's cgroup
// (the DaemonSet's limit is 1 GiB). A larger ring is the user's to name.
inline constexpr uint32_t kMaxDefaultRingBytes = 256u << 20;
inline constexpr uint32_t kMaxRingBytes = 1u << 30;  // the most --ring-buffer-size accepts

// The ring for calls of up to `max_bytes_per_call` captured bytes when the user named none:
// kRingCallsAtLimit of them, rounded up to a power of two, between kMinDefaultRingBytes and
// kMaxDefaultRingBytes (32 MiB with the default 1 MiB per call).
uint32_t default_ring_bytes(uint32_t max_bytes_per_call);

// The ring the kernel is asked for: `requested` (0: default_ring_bytes(max_bytes_per_call))
// rounded up to a power of two of at least a page, as BPF ring buffers must be.
uint32_t ring_bytes_for(uint32_t requested, uint32_t max_bytes_per_call, uint32_t page_bytes);

}  // namespace llmtap::capture
