#pragma once
// LlmCall values shared by the sink tests.

#include <arpa/inet.h>
#include <sys/socket.h>

#include <memory>

#include "llm/llm_call.h"

namespace llmtap::sink::testing {

inline capture::Endpoint endpoint(int family, const char* ip, uint16_t port) {
  capture::Endpoint e;
  e.family = static_cast<uint16_t>(family);
  inet_pton(family, ip, e.addr.data());
  e.port = port;
  return e;
}

// 2023-11-14T22:13:20.123Z
inline constexpr uint64_t kStartNs = 1'700'000'000'123'000'000ULL;

// A Kubernetes pod's container, with every field the pod watcher fills.
inline std::shared_ptr<const llm::WorkloadIdentity> pod_workload() {
  auto w = std::make_shared<llm::WorkloadIdentity>();
  w->container_id = "3f4e1c9a0b7d2e5f8a6c4b1d9e7f2a3c5b8d0e1f4a7c9b2d6e8f0a1c3b5d7e9f";
  w->container_runtime = "containerd";
  w->container_name = "agent";
  w->image = "registry.example:5000/ml/agent:2.3.1@sha256:1111";
  w->image_id = "sha256:9a8b7c";
  w->pod_uid = "0f8e3c52-7b1d-4c8e-9a61-2d5b7e9c4a13";
  w->pod_name = "agent-6d8f9-x2k4q";
  w->pod_namespace = "ml-team";
  w->node_name = "node-7";
  w->service_account = "agent";
  w->pod_ip = "10.244.3.17";
  w->pod_labels = {{"app", "agent"}, {"team", "ml"}};
  return w;
}

// A container outside any cluster (docker on a plain host).
inline std::shared_ptr<const llm::WorkloadIdentity> container_workload() {
  auto w = std::make_shared<llm::WorkloadIdentity>();
  w->container_id = "aa11bb22cc33dd44ee55ff66aa77bb88cc99dd00ee11ff22aa33bb44cc55dd66";
  w->container_runtime = "docker";
  return w;
}

// A streamed OpenAI chat completion that succeeded, with every field filled in.
inline llm::LlmCall full_call() {
  llm::LlmCall call;
  call.sequence = 42;
  call.start_realtime_ns = kStartNs;
  call.start_mono_ns = 5'000'000'000;
  call.ttfb_ns = 310'000'000;
  call.latency_ns = 1'850'000'000;
  call.process.pid = 4242;
  call.process.uid = 1000;
  call.process.cgroup_id = 9876;
  call.process.comm = "python3";
  call.process.exe = "/usr/bin/python3.11";
  call.process.cmdline = "python3 agent.py --task summarize";
  call.conn_id = 77;
  call.local = endpoint(AF_INET, "10.0.0.5", 51514);
  call.remote = endpoint(AF_INET, "162.159.140.245", 443);
  call.tls_lib = capture::TlsLib::kOpenSsl;
  call.server_name = "api.openai.com";
  call.http_version = "1.1";
  call.provider = "openai";
  call.api = "openai.chat_completions";
  call.operation = "chat_completions";
  call.method = "POST";
  call.path = "/v1/chat/completions";
  call.request_model = "gpt-4o-mini";
  call.response_model = "gpt-4o-mini-2024-07-18";
  call.stream = true;
  call.status = 200;
  call.finish_reason = "stop";
  call.response_id = "chatcmpl-AbC123";
  call.tokens.input = 1200;
  call.tokens.output = 350;
  call.tokens.total = 1550;
  call.tokens.cached = 1024;
  call.tokens.reasoning = 0;
  call.stream_events = 87;
  call.request_bytes = 5321;
  call.response_bytes = 48213;
  call.request_body_bytes = 4980;
  call.response_body_bytes = 47700;
  call.user_agent = "OpenAI/Python 1.51.0";
  call.auth_style = "bearer";
  return call;
}

// Only what the stage always knows: no model, tokens, response or process details.
inline llm::LlmCall bare_call() {
  llm::LlmCall call;
  call.sequence = 1;
  call.start_realtime_ns = kStartNs;
  call.process.pid = 7;
  call.method = "POST";
  call.path = "/v1/embeddings";
  call.provider = "openai";
  call.status = 200;
  call.latency_ns = 2'000'000;
  return call;
}

}  // namespace llmtap::sink::testing
