#pragma once
// The capture plus the LLM pipeline, for the commands that report LLM calls (daemon, watch).

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "cli/capture_session.h"
#include "cli/policy_source.h"
#include "llm/llm_call.h"
#include "policy/compiled_policy.h"
#include "policy/finding.h"

namespace llmtap::cli {

struct LlmSessionOptions {
  CaptureSelection capture;
  double duration_seconds = 0;             // 0: until SIGINT/SIGTERM
  std::vector<std::string> catalog_files;  // user catalogs, tried before the built-in one
  std::vector<std::string> price_files;    // user price tables, tried before the built-in one
  bool include_content = false;            // prompt and completion text in records
  size_t content_limit = 4096;             // bytes of each text kept
  size_t max_body_bytes = 8 << 20;         // body bytes kept per message (all are counted)
  PolicyFiles policy;                      // the built-in pack plus these
  std::string finding_uid_prefix = "llmtap";
  bool audit = false;                    // --mode audit: actions are reported, never taken
  std::vector<std::string> never_touch;  // --never-touch, added to the defaults
  // Prevent mode: LLM servers whose connections' writes are held from the very first one
  // (--hold-endpoint); others are added as LLM calls to them are seen.
  std::vector<capture::Endpoint> hold_endpoints;
  // Kubernetes: --kubeconfig (else $KUBECONFIG, else in-cluster), --kube-context, --node-name
  // (else $NODE_NAME). No cluster found: containers are named without pods.
  std::string kubeconfig;
  std::string kube_context;
  std::string node_name;
  unsigned pod_wait_ms = 2000;  // how long a record about a not-yet-known pod may wait for it
};

struct LlmSessionHandlers {
  // The policy the session starts with, once compiled (before capture starts).
  std::function<void(const policy::CompiledPolicy&)> on_policy;
  // Each call with the findings the policy made about it (empty: allowed).
  std::function<void(const llm::LlmCall&, const std::vector<policy::Finding>&)> on_call;
  // Findings that are not about a call just made (counted repeats reported when their window
  // ends, and at exit).
  std::function<void(const std::vector<policy::Finding>&)> on_findings;
  std::function<bool(uint64_t now_mono_ns)> after_poll;  // false: output gone, stop
  // About once a second while capturing (the first: once probes are attached).
  std::function<void(const CaptureSnapshot&)> on_capture_snapshot;
  std::function<bool(uint64_t now_mono_ns)> at_end;
  // Once the window is over, before at_end: the container and pod of a live process (null
  // for a host process or one that is gone), as calls' records name them.
  using WorkloadLookup =
      std::function<std::shared_ptr<const llm::WorkloadIdentity>(uint32_t pid)>;
  std::function<void(const WorkloadLookup&)> before_end;
};

// Loads the catalogs (throws llm::CatalogError naming file:line:column) and the policy
// (throws std::runtime_error with every error), then captures, judges and reports LLM calls
// until stopped; returns the exit status.
int run_llm_session(const LlmSessionOptions& options, const LlmSessionHandlers& handlers);

}  // namespace llmtap::cli
