#pragma once
// One captured TLS library call (a write or read of plaintext), as the capture stage hands
// it to the next stage.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmtap::capture {

enum class Direction : uint8_t { kWrite = 0, kRead = 1 };

enum class TlsLib : uint8_t { kUnknown = 0, kOpenSsl = 1, kGnuTls = 2 };

struct Endpoint {
  std::array<uint8_t, 16> addr{};  // IPv4 in the first 4 bytes
  uint16_t port = 0;
  uint16_t family = 0;  // AF_INET, AF_INET6, AF_UNIX; 0 when unknown
};

// A v4-mapped v6 address ("::ffff:10.1.2.3"): shown, and counted, as the v4 address in its last
// four bytes.
bool is_v4_mapped(const Endpoint& endpoint);

// "1.2.3.4:443" or "[2001:db8::1]:443" (a port is required); nullopt otherwise.
std::optional<Endpoint> parse_endpoint(std::string_view text);

struct TlsCall {
  uint64_t call_id = 0;
  uint64_t mono_ns = 0;        // CLOCK_MONOTONIC at the call's return
  uint64_t entry_mono_ns = 0;  // CLOCK_MONOTONIC at the call's entry
  uint64_t cgroup_id = 0;
  uint64_t start_boottime_ns = 0;  // the process's start (with pid: survives pid reuse)
  uint64_t ssl = 0;                // the TLS session pointer: connection key within the process
  uint64_t conn_id = 0;            // stable across the connection's calls and threads; 0 if unknown
  uint32_t pid = 0;
  uint32_t tid = 0;
  uint32_t uid = 0;
  uint32_t call_len = 0;  // bytes the call transferred
  uint32_t lost_len = 0;  // bytes missing because the ring buffer was full
  int32_t fd = -1;
  bool truncated = false;   // call_len exceeded the per-call capture limit
  bool fd_guessed = false;  // fd learned from the syscall after the call (memory BIO)
  // An earlier call in this direction on this connection was lost whole: the byte stream
  // has a hole of unknown size before this call's data.
  bool gap_before = false;
  // The connection was made quiet (TlsCaptureProgram::quiet_connection): no data, by request.
  bool quiet = false;
  // The connection was quiet until an LLM request, and this call starts one: copying resumed
  // at its first byte (a fresh request: parsing starts over here).
  bool resumed = false;
  // Prevent mode: a write's plaintext sent at its entry while its writer is held (mono_ns is
  // then the entry time); the same write comes again, as usual, at its return.
  bool preview = false;
  Direction direction = Direction::kWrite;
  TlsLib lib = TlsLib::kUnknown;
  Endpoint local;
  Endpoint remote;
  std::string comm;
  // The captured bytes: a prefix of the call's plaintext (all of it unless truncated or
  // lost). Valid only while the handler that receives the call runs.
  std::string_view data;
};

enum class CloseReason : uint8_t { kFdClosed = 1, kSessionFreed = 2, kProcessExited = 3 };

// A connection ended: its per-connection state can go.
struct TlsClose {
  uint64_t mono_ns = 0;
  uint64_t conn_id = 0;
  uint64_t ssl = 0;
  uint32_t pid = 0;
  int32_t fd = -1;
  CloseReason reason = CloseReason::kFdClosed;
};

std::string_view to_string(CloseReason reason);
std::string_view to_string(Direction direction);
std::string_view to_string(TlsLib lib);

}  // namespace llmtap::capture

namespace llmtap::capture {

// "1.2.3.4:443" or "[::1]:443" (IPv4-mapped IPv6 shown as IPv4); empty when unknown.
std::string to_string(const Endpoint& endpoint);
// The same text appended to `out`; false (nothing appended) when unknown.
// The same text written to `out` (room for kEndpointTextMax bytes); returns its length, 0 when
// the family is unknown.
inline constexpr size_t kEndpointTextMax = 56;
size_t format_endpoint_text(char* out, const Endpoint& endpoint);
bool append_endpoint_text(std::string& out, const Endpoint& endpoint);

// "1.2.3.4" for the 4 bytes at `addr` (as inet_ntop writes it, without its sprintf); `out`
// needs 15 bytes. Returns the length.
size_t format_ipv4(const uint8_t* addr, char* out);

}  // namespace llmtap::capture
