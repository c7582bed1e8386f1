#include "enrich/kube_api_config.h"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <yaml-cpp/yaml.h>

#include "common/yaml_reader.h"

namespace llmtap::enrich {
namespace {

namespace fs = std::filesystem;

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw KubeConfigError("kubeconfig " + file + ": " + what);
}

std::string scalar_at(const YAML::Node& map, const char* key, const std::string& file,
                      const std::string& where) {
  if (!map.IsMap()) return {};
  const YAML::Node v = map[key];
  if (!v || v.IsNull()) return {};  // absent, or `key:` with no value
  if (!v.IsScalar()) {
    fail(file, (where.empty() ? std::string(key) : where + "." + key) + " is not a string");
  }
  return v.as<std::string>();
}

// kubeconfig's *-data fields are base64 (of PEM, or of the token's bytes).
std::string base64_decode(const std::string& text, const std::string& file,
                          const std::string& what) {
  std::string compact;
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ') compact.push_back(c);
  }
  // Strict: the alphabet, a length of whole quads, and at most two '=' only at the very end
  // (EVP_DecodeBlock alone accepts "Q===").
  const size_t pad = compact.size() - std::min(compact.size(), compact.find_last_not_of('=') + 1);
  const auto in_alphabet = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  };
  if (compact.size() % 4 != 0 || pad > 2 ||
      !std::all_of(compact.begin(), compact.end() - static_cast<std::ptrdiff_t>(pad), in_alphabet)) {
    fail(file, what + " is not base64");
  }
  std::string out(compact.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(compact.data()),
                                static_cast<int>(compact.size()));
  if (n < 0) fail(file, what + " is not base64");
  size_t size = static_cast<size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes.
  if (!compact.empty() && compact.back() == '=') --size;
  if (compact.size() > 1 && compact[compact.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

// The named entry of a kubeconfig list (clusters, users, contexts): its inner map.
YAML::Node named(const YAML::Node& root, const char* list, const char* inner,
                 const std::string& name, const std::string& file) {
  const YAML::Node items = root[list];
  if (items && items.IsSequence()) {
    for (const YAML::Node& item : items) {
      if (item.IsMap() && item["name"] && item["name"].IsScalar() &&
          item["name"].as<std::string>() == name) {
        const YAML::Node v = item[inner];
        return v ? v : YAML::Node(YAML::NodeType::Map);
      }
    }
  }
  fail(file, std::string("no ") + inner + " named '" + name + "' in " + list);
}

std::string relative_to(const std::string& path, const std::string& file) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(file).parent_path() / path).string();
}

}  // namespace

std::optional<std::string> process_environment(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

KubeApiConfig load_kubeconfig(const std::string& path, const std::string& context_flag) {
  YAML::Node root;
  try {
    root = parse_yaml_document(read_config_file(path), path);
  } catch (const YamlError& e) {
    throw KubeConfigError(e.what());
  }
  if (!root.IsMap()) fail(path, "not a kubeconfig (no mapping at the top)");
  std::string context_name = context_flag;
  if (context_name.empty()) context_name = scalar_at(root, "current-context", path, "");
  if (context_name.empty()) fail(path, "no current-context (give --kube-context)");
  const YAML::Node context = named(root, "contexts", "context", context_name, path);
  const std::string cluster_name = scalar_at(context, "cluster", path, "context");
  const std::string user_name = scalar_at(context, "user", path, "context");
  if (cluster_name.empty()) fail(path, "context '" + context_name + "' names no cluster");

  KubeApiConfig c;
  c.source = "kubeconfig " + path + " (context " + context_name + ")";
  const YAML::Node cluster = named(root, "clusters", "cluster", cluster_name, path);
  c.server = scalar_at(cluster, "server", path, "cluster");
  if (c.server.empty()) fail(path, "cluster '" + cluster_name + "' has no server");
  if (c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0) {
    fail(path, "cluster '" + cluster_name + "' server '" + c.server + "' is not an http(s) URL");
  }
  c.ca_file = relative_to(scalar_at(cluster, "certificate-authority", path, "cluster"), path);
  if (auto data = scalar_at(cluster, "certificate-authority-data", path, "cluster"); !data.empty()) {
    c.ca_pem = base64_decode(data, path, "certificate-authority-data");
  }
  c.insecure_skip_tls_verify =
      scalar_at(cluster, "insecure-skip-tls-verify", path, "cluster") == "true";

  if (!user_name.empty()) {
    const YAML::Node user = named(root, "users", "user", user_name, path);
    if (user.IsMap() && (user["exec"] || user["auth-provider"])) {
      fail(path, "user '" + user_name +
                     "' authenticates with an exec plugin or auth-provider, which llmtap does not "
                     "run: give it a token, tokenFile or client certificate");
    }
    c.token = scalar_at(user, "token", path, "user");
    c.token_file = relative_to(scalar_at(user, "tokenFile", path, "user"), path);
    c.client_cert_file = relative_to(scalar_at(user, "client-certificate", path, "user"), path);
    c.client_key_file = relative_to(scalar_at(user, "client-key", path, "user"), path);
    if (auto d = scalar_at(user, "client-certificate-data", path, "user"); !d.empty()) {
      c.client_cert_pem = base64_decode(d, path, "client-certificate-data");
    }
    if (auto d = scalar_at(user, "client-key-data", path, "user"); !d.empty()) {
      c.client_key_pem = base64_decode(d, path, "client-key-data");
    }
    const bool has_cert = !c.client_cert_file.empty() || !c.client_cert_pem.empty();
    const bool has_key = !c.client_key_file.empty() || !c.client_key_pem.empty();
    if (has_cert != has_key) {
      fail(path, "user '" + user_name + "' has a client certificate without its key, or a key "
                 "without its certificate");
    }
  }
  return c;
}

std::optional<KubeApiConfig> in_cluster_config(const EnvironmentLookup& env,
                                               const std::string& service_account_dir) {
  const auto host = env("KUBERNETES_SERVICE_HOST");
  const auto port = env("KUBERNETES_SERVICE_PORT");
  if (!host || !port) return std::nullopt;
  const std::string token_file = service_account_dir + "/token";
  if (!is_file(token_file)) {
    throw KubeConfigError("in a Kubernetes pod (KUBERNETES_SERVICE_HOST is set) but " + token_file +
                          " is missing: is automountServiceAccountToken off?");
  }
  KubeApiConfig c;
  // An IPv6 service address needs brackets in a URL.
  const bool ipv6 = host->find(':') != std::string::npos;
  c.server = "https://" + (ipv6 ? "[" + *host + "]" : *host) + ":" + *port;
  c.token_file = token_file;
  if (is_file(service_account_dir + "/ca.crt")) c.ca_file = service_account_dir + "/ca.crt";
  c.source = "in-cluster service account";
  return c;
}

std::optional<KubeApiConfig> find_kube_api_config(const std::string& kubeconfig_flag,
                                                  const std::string& context,
                                                  const EnvironmentLookup& env,
                                                  const std::string& service_account_dir) {
  if (!kubeconfig_flag.empty()) return load_kubeconfig(kubeconfig_flag, context);
  if (const auto list = env("KUBECONFIG")) {
    // A list of files, like kubectl's; we take the first that exists (no merging).
    size_t start = 0;
    while (start <= list->size()) {
      size_t end = list->find(':', start);
      if (end == std::string::npos) end = list->size();
      const std::string file = list->substr(start, end - start);
      if (!file.empty() && is_file(file)) return load_kubeconfig(file, context);
      start = end + 1;
    }
    throw KubeConfigError("KUBECONFIG names no readable file: " + *list);
  }
  return in_cluster_config(env, service_account_dir);
}

}  // namespace llmtap::enrich
