#include "audit/model_servers.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

namespace llmtap::audit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxAnswerBytes = size_t{4} << 20;
constexpr size_t kMaxModels = 1000;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// "0100007F" (little-endian IPv4) or 32 hex digits (IPv6, four little-endian words).
std::string address_text(std::string_view hex, bool ipv6) {
  std::array<unsigned char, 16> bytes{};
  const size_t n = ipv6 ? 16 : 4;
  if (hex.size() != n * 2) return {};
  for (size_t i = 0; i < n; ++i) {
    unsigned int b = 0;
    if (std::sscanf(std::string(hex.substr(i * 2, 2)).c_str(), "%2x", &b) != 1) return {};
    bytes[i] = static_cast<unsigned char>(b);
  }
  // The kernel prints each 32-bit word in host (little-endian) order.
  for (size_t w = 0; w < n / 4; ++w)
    std::swap(bytes[w * 4], bytes[w * 4 + 3]), std::swap(bytes[w * 4 + 1], bytes[w * 4 + 2]);
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text);
  return text;
}

size_t collect(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * count > kMaxAnswerBytes) return 0;
  body->append(data, size * count);
  return size * count;
}

std::optional<std::string> get(uint16_t port, const char* path, std::chrono::milliseconds timeout) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return std::nullopt;
  std::string body;
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");  // loopback, never through a proxy
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "llmtap-audit");
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK || status != 200) return std::nullopt;
  return body;
}

std::optional<std::vector<std::string>> names_in(std::string_view body, const char* list,
                                                 const char* field) {
  const json doc = json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains(list) || !doc[list].is_array()) return std::nullopt;
  std::vector<std::string> names;
  for (const json& m : doc[list]) {
    if (names.size() >= kMaxModels) break;
    if (m.is_object() && m.contains(field) && m[field].is_string()) {
      names.push_back(m[field].get<std::string>());
    }
  }
  return names;
}

}  // namespace

std::vector<TcpListener> parse_proc_net_tcp(std::string_view text, bool ipv6) {
  std::vector<TcpListener> out;
  std::istringstream in{std::string(text)};
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    // "  0: 0100007F:2CAA 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 12345 ..."
    std::istringstream f(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    if (!(f >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode)) {
      continue;
    }
    if (state != "0A") continue;  // TCP_LISTEN
    const size_t colon = local.find(':');
    if (colon == std::string::npos) continue;
    TcpListener l;
    l.address = address_text(std::string_view(local).substr(0, colon), ipv6);
    unsigned int port = 0;
    if (l.address.empty() || std::sscanf(local.c_str() + colon + 1, "%x", &port) != 1 ||
        port > 65535) {
      continue;
    }
    l.port = static_cast<uint16_t>(port);
    try {
      l.inode = std::stoull(inode);
    } catch (const std::exception&) {
      continue;
    }
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<TcpListener> tcp_listeners(const std::string& proc_root) {
  std::vector<TcpListener> out = parse_proc_net_tcp(read_text(proc_root + "/net/tcp"), false);
  for (TcpListener& l : parse_proc_net_tcp(read_text(proc_root + "/net/tcp6"), true)) {
    out.push_back(std::move(l));
  }
  return out;
}

uint32_t owner_of_socket(uint64_t inode, const std::string& proc_root) {
  const std::string wanted = "socket:[" + std::to_string(inode) + "]";
  std::error_code ec;
  for (const auto& p : fs::directory_iterator(proc_root, ec)) {
    const std::string pid = p.path().filename().string();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fd_ec;
    for (const auto& fd : fs::directory_iterator(p.path() / "fd", fd_ec)) {
      std::error_code link_ec;
      if (fs::read_symlink(fd.path(), link_ec).string() == wanted) {
        return static_cast<uint32_t>(std::stoul(pid));
      }
    }
  }
  return 0;
}

const std::vector<uint16_t>& model_server_ports() {
  static const std::vector<uint16_t> ports = {11434, 8000, 8080, 1234, 3000, 5000};
  return ports;
}

std::optional<std::vector<std::string>> ollama_models(std::string_view body) {
  return names_in(body, "models", "name");
}
std::optional<std::vector<std::string>> openai_models(std::string_view body) {
  return names_in(body, "data", "id");
}
std::optional<std::vector<std::string>> tgi_models(std::string_view body) {
  const json doc = json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("model_id") || !doc["model_id"].is_string()) {
    return std::nullopt;
  }
  return std::vector<std::string>{doc["model_id"].get<std::string>()};
}

std::optional<ModelServer> probe_model_server(uint16_t port, std::chrono::milliseconds timeout) {
  ModelServer s;
  s.port = port;
  if (auto body = get(port, "/api/tags", timeout)) {
    if (auto models = ollama_models(*body)) {
      s.kind = "ollama";
      s.models = std::move(*models);
      return s;
    }
  }
  if (auto body = get(port, "/v1/models", timeout)) {
    if (auto models = openai_models(*body)) {
      s.kind = "openai-compatible";
      s.models = std::move(*models);
      return s;
    }
  }
  if (auto body = get(port, "/info", timeout)) {
    if (auto models = tgi_models(*body)) {
      s.kind = "text-generation-inference";
      s.models = std::move(*models);
      return s;
    }
  }
  return std::nullopt;
}

}  // namespace llmtap::audit
