#pragma once
// OCSF objects that more than one of llmtap's event classes writes: the HTTP Activity event of
// a call (4002) and the findings about it (2004, 2006) describe the same process, host and
// connection the same way. Field choices and their sources are in docs/events.md.

#include <netinet/in.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "capture/tls_call.h"
#include "llm/llm_call.h"
#include "sink/json_writer.h"

namespace llmtap::sink {

// HTTP Activity carries the ai_operation profile from OCSF 1.9.0 on (1.8.0 allowed it only on
// API Activity and Process Activity), so this is the oldest version these events are valid in.
inline constexpr std::string_view kOcsfSchemaVersion = "1.9.0";

// What every event of one agent run shares.
struct OcsfContext {
  std::string product_version;  // llmtap's version
  std::string hostname;         // the host the agent runs on
  std::string uid_prefix;       // random per run: metadata.uid = "<prefix>-<call sequence>"
};

namespace ocsf {

// Decimal text of a number, on the stack.
class Decimal {
 public:
  explicit Decimal(uint64_t value)
      : len_(static_cast<size_t>(std::to_chars(buf_, buf_ + sizeof buf_, value).ptr - buf_)) {}
  std::string_view view() const { return {buf_, len_}; }

 private:
  char buf_[24];
  size_t len_;
};

// The address alone, IPv4-mapped IPv6 shown as IPv4 (as capture::to_string does); empty when
// the family is not IP.
class IpText {
 public:
  explicit IpText(const capture::Endpoint& endpoint);
  std::string_view view() const { return {buf_.data(), len_}; }
  bool v6() const { return v6_; }

 private:
  std::array<char, INET6_ADDRSTRLEN> buf_{};
  size_t len_ = 0;
  bool v6_ = false;
};

// The call's two ends: whichever end was captured, the client made the call and the server
// answered it.
inline const capture::Endpoint& client_of(const llm::LlmCall& call) {
  return call.served ? call.remote : call.local;
}
inline const capture::Endpoint& server_of(const llm::LlmCall& call) {
  return call.served ? call.local : call.remote;
}

// First 12 hex digits of the SHA-256 of the call's API key (enough to group calls by key, far
// too little to test guesses of the key against); empty when the call carried none.
inline constexpr size_t kApiKeyFingerprintLength = 12;
inline std::string_view api_key_fingerprint(const llm::LlmCall& call) {
  return std::string_view(call.api_key_sha256).substr(0, kApiKeyFingerprintLength);
}

// Opens `metadata` and writes what every llmtap event's metadata starts with: `version` and
// `product`. The caller adds its own members (uid, log_name, profiles...) and closes it.
void begin_metadata(JsonWriter& w, const OcsfContext& context);

// `key`: the metadata.uid of the HTTP Activity event of the call with this sequence number
// ("<uid_prefix>-<sequence>", the sequence alone without a prefix).
void write_call_event_uid(JsonWriter& w, std::string_view key, const OcsfContext& context,
                          uint64_t sequence);

// `key`: a `process` object (pid, name, cmd_line, file, user; `container` when the process
// runs in one: the event must then declare the `container` profile).
void write_process(JsonWriter& w, std::string_view key, const llm::ProcessIdentity& process);

// `container` (OCSF container profile): uid, name, image, runtime, pod_uuid, orchestrator,
// and the pod's labels as "key=value" strings.
void write_container(JsonWriter& w, const llm::WorkloadIdentity& workload);

// In `unmapped.llmtap`: `pod` {namespace, name, uid, node, service_account, ip, labels{}} when
// the pod is known (OCSF has no Kubernetes object).
void write_pod(JsonWriter& w, const llm::WorkloadIdentity& workload);

// Appends "container" to the open `profiles` array when the process runs in a container.
void add_container_profile(JsonWriter& w, const llm::ProcessIdentity& process);

// `actor`: {process}. The last few processes' objects are kept as written and copied.
void write_actor(JsonWriter& w, const llm::ProcessIdentity& process);

// `device`: the host llmtap runs on.
void write_device(JsonWriter& w, const OcsfContext& context);

// `key`: a network_endpoint (hostname, ip, port); nothing when none of them is known.
void write_endpoint(JsonWriter& w, std::string_view key, const capture::Endpoint& endpoint,
                    std::string_view hostname);

// `src_endpoint`: the client. `dst_endpoint`: the server, with the server name the request
// named.
void write_src_endpoint(JsonWriter& w, const llm::LlmCall& call);
void write_dst_endpoint(JsonWriter& w, const llm::LlmCall& call);

// `connection_info`: direction, protocol, llmtap's connection id.
void write_connection_info(JsonWriter& w, const llm::LlmCall& call);

}  // namespace ocsf
}  // namespace llmtap::sink
