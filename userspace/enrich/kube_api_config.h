#pragma once
// Where the Kubernetes API server is and how to authenticate to it, found the way Kubernetes
// tools do: an explicit kubeconfig (--kubeconfig, else $KUBECONFIG), else the in-cluster
// service account. No cluster configured is not an error: llmtap then reports containers
// without pods and never tries to reach an API server.

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace llmtap::enrich {

struct KubeApiConfig {
  std::string server;  // "https://10.0.0.1:443"
  // Trust: a PEM file or PEM text (kubeconfig's certificate-authority-data); neither: the
  // system store.
  std::string ca_file;
  std::string ca_pem;
  bool insecure_skip_tls_verify = false;
  // Bearer token: a fixed one, or a file read again before every request (projected service
  // account tokens rotate).
  std::string token;
  std::string token_file;
  // Client certificate, as files or PEM text.
  std::string client_cert_file;
  std::string client_cert_pem;
  std::string client_key_file;
  std::string client_key_pem;
  std::string source;  // for messages: "in-cluster service account", "kubeconfig FILE (context C)"
};

class KubeConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads an environment variable; tests pass their own.
using EnvironmentLookup = std::function<std::optional<std::string>(const char* name)>;
std::optional<std::string> process_environment(const char* name);

inline constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";

// A kubeconfig file, at `context` or its current-context. Paths inside it are relative to the
// file's directory. Throws KubeConfigError naming the file and what is wrong (including the
// auth methods llmtap does not run: exec plugins, auth-provider).
KubeApiConfig load_kubeconfig(const std::string& path, const std::string& context = "");

// The in-cluster configuration: KUBERNETES_SERVICE_HOST/PORT and the service account's token
// and CA. nullopt when not in a cluster.
std::optional<KubeApiConfig> in_cluster_config(const EnvironmentLookup& env,
                                               const std::string& service_account_dir =
                                                   kServiceAccountDir);

// --kubeconfig, else $KUBECONFIG (its first existing file), else in-cluster, else nullopt.
std::optional<KubeApiConfig> find_kube_api_config(const std::string& kubeconfig_flag,
                                                  const std::string& context,
                                                  const EnvironmentLookup& env = process_environment,
                                                  const std::string& service_account_dir =
                                                      kServiceAccountDir);

}  // namespace llmtap::enrich
