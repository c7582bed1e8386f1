#pragma once
// One LLM API call as llmtap reports it: who called which provider and model, what went out
// and came back, and how long it took. Built by the LLM stage from an HTTP exchange; enriched
// with process (and later pod) identity; read by policy and sinks.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "capture/tls_call.h"

namespace llmtap::llm {

// The container a process runs in and, in a cluster, its Kubernetes pod. Shared and never
// changed once made (a pod update makes a new one), so records carry it without copying.
struct WorkloadIdentity {
  std::string container_id;       // 64 hex
  std::string container_runtime;  // "containerd", "cri-o", "docker", "podman"; "" when unknown
  std::string container_name;     // from the pod spec; "" outside a cluster
  std::string image;              // "registry/repo:tag" as the pod spec names it
  std::string image_id;           // the image digest the runtime reports, when known
  // From the cgroup path: known even when the API server is not.
  std::string pod_uid;
  // From the Kubernetes API: empty until the pod is known.
  std::string pod_name;
  std::string pod_namespace;
  std::string node_name;
  std::string service_account;
  std::string pod_ip;
  std::vector<std::pair<std::string, std::string>> pod_labels;  // sorted by key

  bool pod_known() const { return !pod_name.empty(); }
};

struct ProcessIdentity {
  uint32_t pid = 0;
  uint32_t uid = 0;
  uint64_t cgroup_id = 0;
  // The process's start (group leader's start_boottime, ns): with pid, names this process
  // and no later one that reuses the pid (kill-process checks it). 0 when unknown.
  uint64_t start_boottime_ns = 0;
  std::string comm;
  std::string exe;      // /proc/PID/exe target, empty when unknown
  std::string cmdline;  // argv joined with spaces, cut to a limit
  // Null for a process on the host (outside any container we recognise).
  std::shared_ptr<const WorkloadIdentity> workload;
};

struct TokenUsage {
  std::optional<uint64_t> input;           // prompt / input tokens
  std::optional<uint64_t> output;          // completion / output tokens
  std::optional<uint64_t> total;           // as reported, else input + output when both known
  std::optional<uint64_t> cached;          // cached input tokens (cache reads)
  std::optional<uint64_t> cache_creation;  // Anthropic cache_creation_input_tokens
  std::optional<uint64_t> reasoning;       // reasoning / thinking tokens
};

struct LlmCall {
  uint64_t sequence = 0;  // per agent run, increasing
  // Timing: CLOCK_MONOTONIC and wall-clock (ns since the epoch) of the request's first byte.
  uint64_t start_mono_ns = 0;
  uint64_t start_realtime_ns = 0;
  uint64_t ttfb_ns = 0;     // request first byte -> response first byte; 0 when no response
  uint64_t latency_ns = 0;  // request first byte -> response last byte

  // Who.
  ProcessIdentity process;

  // Connection.
  uint64_t conn_id = 0;
  capture::Endpoint local;
  capture::Endpoint remote;
  capture::TlsLib tls_lib = capture::TlsLib::kUnknown;
  // The captured process answered this call (an LLM server or gateway): `local` is then the
  // server's end and `remote` the client's.
  bool served = false;
  std::string server_name;   // Host / :authority, without the port
  std::string http_version;  // "1.1", "1.0", "2"

  // What.
  std::string provider;   // catalog provider id: "openai", "anthropic", "openai-compatible", ...
  std::string api;        // ApiFamily name, e.g. "openai.chat_completions"
  std::string operation;  // short API name, e.g. "chat_completions"
  std::string method;
  std::string path;            // request target without the query string
  std::string request_model;   // from the body, or the path (Gemini, Bedrock, Azure deployment)
  std::string response_model;  // as the response named it
  bool stream = false;
  int status = 0;             // 0 when the connection ended before a response
  std::string error_type;     // provider error type/code, or "http_<status>" / "incomplete"
  std::string error_message;  // cut to a limit
  std::string finish_reason;
  std::string response_id;  // provider's id for the completion, when given
  TokenUsage tokens;
  // Estimated from `tokens` and the price table (llm/price_table.h): list prices, not a bill.
  std::optional<double> cost_usd;
  uint32_t stream_events = 0;

  // Sizes: on the wire (headers included), and bodies as sent (de-chunked, still encoded).
  uint64_t request_bytes = 0;
  uint64_t response_bytes = 0;
  uint64_t request_body_bytes = 0;
  uint64_t response_body_bytes = 0;
  bool request_truncated = false;  // body longer than the kept limit: fields may be missing
  bool response_truncated = false;
  bool response_incomplete = false;  // the connection ended before the response did

  std::string user_agent;
  std::string auth_style;  // "bearer", "x-api-key", "api-key", "x-goog-api-key", "sigv4", ""
  // SHA-256 (hex) of the API key the call carried, "" when none: lets policy tell the
  // organisation's keys from others, and events group usage by key. Never the key itself.
  std::string api_key_sha256;

  // Only when the content switch is on, each cut to the configured limit.
  std::optional<std::string> prompt_text;
  std::optional<std::string> completion_text;
};

// A call's bodies as sent (content-decoded, cut to the body limit), valid only while the
// call's handler runs: the policy stage reads them; nothing keeps them.
struct CallBodies {
  std::string_view request;
  std::string_view response;
};

}  // namespace llmtap::llm
