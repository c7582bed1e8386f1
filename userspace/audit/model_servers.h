#pragma once
// Local model servers, for the audit's inventory: TCP listeners on the ports model servers use
// (Ollama 11434, vLLM and TGI 8000/8080/3000, llama.cpp 8080, LM Studio 1234), each confirmed
// by one harmless GET of its model list on loopback (Ollama /api/tags, OpenAI-compatible
// /v1/models, TGI /info), naming the models it serves.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::audit {

struct TcpListener {
  std::string address;  // as listened on: "0.0.0.0", "127.0.0.1", "::"
  uint16_t port = 0;
  uint64_t inode = 0;  // the socket's inode: which process owns it
};

// LISTEN entries of a /proc/net/tcp or /proc/net/tcp6 text. Malformed lines are skipped.
std::vector<TcpListener> parse_proc_net_tcp(std::string_view text, bool ipv6);

// The listeners of this host's network namespace (`proc_root`/net/tcp and tcp6).
std::vector<TcpListener> tcp_listeners(const std::string& proc_root = "/proc");

// The pid owning each socket inode (from /proc/PID/fd links); 0 when not found.
uint32_t owner_of_socket(uint64_t inode, const std::string& proc_root = "/proc");

struct ModelServer {
  uint16_t port = 0;
  std::string kind;  // "ollama", "openai-compatible", "text-generation-inference"
  std::vector<std::string> models;
  uint32_t pid = 0;
  std::string comm;
};

// The ports model servers listen on by default.
const std::vector<uint16_t>& model_server_ports();

// Asks 127.0.0.1:`port` for its model list; nullopt when nothing there answers like a model
// server. Each request is bounded by `timeout`.
std::optional<ModelServer> probe_model_server(uint16_t port, std::chrono::milliseconds timeout);

// The answers' readers, for tests.
std::optional<std::vector<std::string>> ollama_models(std::string_view body);
std::optional<std::vector<std::string>> openai_models(std::string_view body);
std::optional<std::vector<std::string>> tgi_models(std::string_view body);

}  // namespace llmtap::audit
