#include "enrich/kube_api_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

namespace llmtap::enrich {
namespace {

namespace fs = std::filesystem;

// A directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/llmtap-kubeconfig-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `text` to `name` (below the directory, parents made) and returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    const fs::path file = path_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = static_cast<uint8_t>(bytes[i]) << 16 |
                       static_cast<uint8_t>(bytes[i + 1]) << 8 | static_cast<uint8_t>(bytes[i + 2]);
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63],
            kAlphabet[n & 63]};
  }
  if (bytes.size() - i == 1) {
    const uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (bytes.size() - i == 2) {
    const uint32_t n = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1])
                                                                  << 8;
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

std::string binary_bytes(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 7 + 3) % 256);
  return bytes;
}

// A kubeconfig with one context "dev" -> cluster "dev-cluster", user "dev-user".
std::string kubeconfig(const std::string& cluster_fields, const std::string& user_fields) {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "current-context: dev\n"
         "clusters:\n"
         "- name: dev-cluster\n"
         "  cluster:\n" +
         cluster_fields +
         "contexts:\n"
         "- name: dev\n"
         "  context:\n"
         "    cluster: dev-cluster\n"
         "    user: dev-user\n"
         "    namespace: default\n"
         "users:\n"
         "- name: dev-user\n"
         "  user:\n" +
         user_fields;
}

// The KubeConfigError load_kubeconfig throws, as text ("" when it does not throw).
std::string load_error(const std::string& path, const std::string& context = "") {
  try {
    load_kubeconfig(path, context);
  } catch (const KubeConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(LoadKubeconfig, TokenAndCertificateAuthorityFileRelativeToTheKubeconfig) {
  TempDir dir;
  const std::string path =
      dir.write("kube/config", kubeconfig("    server: https://10.0.0.1:6443\n"
                                          "    certificate-authority: certs/ca.crt\n",
                                          "    token: abc.def.ghi\n"));
  const KubeApiConfig c = load_kubeconfig(path);
  EXPECT_EQ(c.server, "https://10.0.0.1:6443");
  EXPECT_EQ(c.ca_file, dir.path() + "/kube/certs/ca.crt");
  EXPECT_TRUE(fs::path(c.ca_file).is_absolute());
  EXPECT_EQ(c.ca_pem, "");
  EXPECT_EQ(c.token, "abc.def.ghi");
  EXPECT_EQ(c.token_file, "");
  EXPECT_FALSE(c.insecure_skip_tls_verify);
  EXPECT_EQ(c.client_cert_file, "");
  EXPECT_EQ(c.client_key_file, "");
  EXPECT_EQ(c.source, "kubeconfig " + path + " (context dev)");
}

TEST(LoadKubeconfig, AbsolutePathsStayAsGiven) {
  TempDir dir;
  const std::string path =
      dir.write("config", kubeconfig("    server: https://api.example.com\n"
                                     "    certificate-authority: /etc/kubernetes/pki/ca.crt\n",
                                     "    client-certificate: /etc/kubernetes/admin.crt\n"
                                     "    client-key: keys/admin.key\n"));
  const KubeApiConfig c = load_kubeconfig(path);
  EXPECT_EQ(c.ca_file, "/etc/kubernetes/pki/ca.crt");
  EXPECT_EQ(c.client_cert_file, "/etc/kubernetes/admin.crt");
  EXPECT_EQ(c.client_key_file, dir.path() + "/keys/admin.key");
}

TEST(LoadKubeconfig, TokenFileRelativeToTheKubeconfig) {
  TempDir dir;
  const std::string path = dir.write(
      "config", kubeconfig("    server: http://127.0.0.1:8080\n", "    tokenFile: sa/token\n"));
  const KubeApiConfig c = load_kubeconfig(path);
  EXPECT_EQ(c.server, "http://127.0.0.1:8080");
  EXPECT_EQ(c.token, "");
  EXPECT_EQ(c.token_file, dir.path() + "/sa/token");
  EXPECT_EQ(c.ca_file, "");
}

TEST(LoadKubeconfig, DataFieldsAreBase64DecodedExactly) {
  TempDir dir;
  // Lengths 3k, 3k+1, 3k+2: no padding, "==", "=".
  for (const size_t size : {1u, 2u, 3u, 4u, 5u, 255u, 256u, 257u}) {
    SCOPED_TRACE(size);
    const std::string ca = binary_bytes(size);
    const std::string cert = "-----BEGIN CERTIFICATE-----\nMIIB" + std::string(size % 3, 'x') +
                             "\n-----END CERTIFICATE-----\n";
    const std::string key = "-----BEGIN EC PRIVATE KEY-----\n" + std::string(size, 'k') +
                            "\n-----END EC PRIVATE KEY-----\n";
    const std::string path =
        dir.write("config", kubeconfig("    server: https://10.0.0.1:443\n"
                                       "    certificate-authority-data: " +
                                           base64(ca) + "\n",
                                       "    client-certificate-data: " + base64(cert) +
                                           "\n"
                                           "    client-key-data: " +
                                           base64(key) + "\n"));
    const KubeApiConfig c = load_kubeconfig(path);
    EXPECT_EQ(c.ca_pem, ca);
    EXPECT_EQ(c.client_cert_pem, cert);
    EXPECT_EQ(c.client_key_pem, key);
    EXPECT_EQ(c.ca_file, "");
    EXPECT_EQ(c.client_cert_file, "");
    EXPECT_EQ(c.client_key_file, "");
  }
}

TEST(LoadKubeconfig, Base64SplitOverLinesIsDecodedWhole) {
  TempDir dir;
  const std::string ca = binary_bytes(100);
  const std::string encoded = base64(ca);  // 136 characters
  const std::string path = dir.write(
      "config", kubeconfig("    server: https://10.0.0.1:443\n"
                           "    certificate-authority-data: |\n"
                           "      " +
                               encoded.substr(0, 64) + "\n      " + encoded.substr(64) + "\n",
                           "    token: t\n"));
  EXPECT_EQ(load_kubeconfig(path).ca_pem, ca);
}

TEST(LoadKubeconfig, InsecureSkipTlsVerify) {
  TempDir dir;
  const std::string path = dir.write("config", kubeconfig("    server: https://10.0.0.1:443\n"
                                                          "    insecure-skip-tls-verify: true\n",
                                                          "    token: t\n"));
  EXPECT_TRUE(load_kubeconfig(path).insecure_skip_tls_verify);
  const std::string off = dir.write("off", kubeconfig("    server: https://10.0.0.1:443\n"
                                                      "    insecure-skip-tls-verify: false\n",
                                                      "    token: t\n"));
  EXPECT_FALSE(load_kubeconfig(off).insecure_skip_tls_verify);
}

TEST(LoadKubeconfig, ContextFlagSelectsANonCurrentContext) {
  TempDir dir;
  const std::string path = dir.write("config",
                                     "apiVersion: v1\n"
                                     "kind: Config\n"
                                     "current-context: dev\n"
                                     "clusters:\n"
                                     "- name: dev-cluster\n"
                                     "  cluster:\n"
                                     "    server: https://dev.example.com\n"
                                     "- name: prod-cluster\n"
                                     "  cluster:\n"
                                     "    server: https://prod.example.com:6443\n"
                                     "    certificate-authority: prod-ca.crt\n"
                                     "contexts:\n"
                                     "- name: dev\n"
                                     "  context: {cluster: dev-cluster, user: dev-user}\n"
                                     "- name: prod\n"
                                     "  context: {cluster: prod-cluster, user: prod-user}\n"
                                     "users:\n"
                                     "- name: dev-user\n"
                                     "  user: {token: dev-token}\n"
                                     "- name: prod-user\n"
                                     "  user: {token: prod-token}\n");
  const KubeApiConfig dev = load_kubeconfig(path);
  EXPECT_EQ(dev.server, "https://dev.example.com");
  EXPECT_EQ(dev.token, "dev-token");
  EXPECT_EQ(dev.ca_file, "");

  const KubeApiConfig prod = load_kubeconfig(path, "prod");
  EXPECT_EQ(prod.server, "https://prod.example.com:6443");
  EXPECT_EQ(prod.token, "prod-token");
  EXPECT_EQ(prod.ca_file, dir.path() + "/prod-ca.crt");
  EXPECT_EQ(prod.source, "kubeconfig " + path + " (context prod)");
}

TEST(LoadKubeconfig, AContextWithoutAUserGivesNoCredentials) {
  TempDir dir;
  const std::string path = dir.write("config",
                                     "current-context: anon\n"
                                     "clusters:\n"
                                     "- name: c\n"
                                     "  cluster: {server: 'https://10.0.0.1'}\n"
                                     "contexts:\n"
                                     "- name: anon\n"
                                     "  context: {cluster: c}\n");
  const KubeApiConfig c = load_kubeconfig(path);
  EXPECT_EQ(c.server, "https://10.0.0.1");
  EXPECT_EQ(c.token, "");
  EXPECT_EQ(c.token_file, "");
}

TEST(LoadKubeconfig, ErrorsSayWhatIsWrong) {
  TempDir dir;
  const std::string server = "    server: https://10.0.0.1:443\n";
  const auto error_of = [&](const std::string& text) {
    return load_error(dir.write("config", text));
  };
  const std::string prefix = "kubeconfig " + dir.path() + "/config: ";

  EXPECT_EQ(error_of("apiVersion: v1\nclusters: []\n"),
            prefix + "no current-context (give --kube-context)");
  EXPECT_EQ(error_of("current-context: ''\n"), prefix + "no current-context (give --kube-context)");
  EXPECT_EQ(error_of(kubeconfig(server, "    token: t\n")), "");  // the base is valid
  EXPECT_EQ(load_error(dir.write("config", kubeconfig(server, "    token: t\n")), "staging"),
            prefix + "no context named 'staging' in contexts");

  std::string unknown_cluster = kubeconfig(server, "    token: t\n");
  unknown_cluster.replace(unknown_cluster.find("cluster: dev-cluster"),
                          std::string("cluster: dev-cluster").size(), "cluster: other");
  EXPECT_EQ(error_of(unknown_cluster), prefix + "no cluster named 'other' in clusters");

  std::string unknown_user = kubeconfig(server, "    token: t\n");
  unknown_user.replace(unknown_user.find("user: dev-user"), std::string("user: dev-user").size(),
                       "user: nobody");
  EXPECT_EQ(error_of(unknown_user), prefix + "no user named 'nobody' in users");

  EXPECT_EQ(error_of(kubeconfig("    certificate-authority: ca.crt\n", "    token: t\n")),
            prefix + "cluster 'dev-cluster' has no server");
  EXPECT_EQ(error_of(kubeconfig("    server: 10.0.0.1:443\n", "    token: t\n")),
            prefix + "cluster 'dev-cluster' server '10.0.0.1:443' is not an http(s) URL");
  EXPECT_EQ(error_of(kubeconfig("    server: ftp://10.0.0.1\n", "    token: t\n")),
            prefix + "cluster 'dev-cluster' server 'ftp://10.0.0.1' is not an http(s) URL");

  const std::string exec_error = error_of(kubeconfig(server,
                                                     "    exec:\n"
                                                     "      apiVersion: "
                                                     "client.authentication.k8s.io/v1beta1\n"
                                                     "      command: aws\n"
                                                     "      args: [eks, get-token]\n"));
  EXPECT_NE(exec_error.find(prefix + "user 'dev-user' authenticates with an exec plugin or "
                                     "auth-provider"),
            std::string::npos)
      << exec_error;
  EXPECT_NE(exec_error.find("token, tokenFile or client certificate"), std::string::npos);
  const std::string provider_error =
      error_of(kubeconfig(server,
                          "    auth-provider:\n"
                          "      name: gcp\n"
                          "      config: {cmd-path: /usr/bin/gcloud}\n"));
  EXPECT_NE(provider_error.find("user 'dev-user' authenticates with an exec plugin or "
                                "auth-provider"),
            std::string::npos)
      << provider_error;

  EXPECT_NE(error_of(kubeconfig(server, "    client-certificate: admin.crt\n"))
                .find(prefix + "user 'dev-user' has a client certificate without its key"),
            std::string::npos);
  EXPECT_NE(error_of(kubeconfig(server, "    client-key-data: " + base64("KEY") + "\n"))
                .find("a key without its certificate"),
            std::string::npos);

  EXPECT_EQ(error_of(kubeconfig(server + "    certificate-authority-data: QUJD=\n", "")),
            prefix + "certificate-authority-data is not base64");
  EXPECT_EQ(error_of(kubeconfig(server + "    certificate-authority-data: '!!!!'\n", "")),
            prefix + "certificate-authority-data is not base64");
  // Padding only at the end, and at most two '=' (OpenSSL's decoder alone takes these).
  for (const char* bad : {"Q===", "QQ=A", "====", "QUJD=QUJD"}) {
    EXPECT_EQ(error_of(kubeconfig(server + "    certificate-authority-data: '" + bad + "'\n", "")),
              prefix + "certificate-authority-data is not base64")
        << bad;
  }
  EXPECT_EQ(error_of(kubeconfig(server,
                                "    client-certificate-data: abc\n"
                                "    client-key-data: " +
                                    base64("KEY") + "\n")),
            prefix + "client-certificate-data is not base64");
  EXPECT_EQ(error_of(kubeconfig(server, "    token: [a, b]\n")),
            prefix + "user.token is not a string");

  EXPECT_EQ(error_of("- a\n- b\n"), prefix + "not a kubeconfig (no mapping at the top)");
  EXPECT_EQ(error_of("just text\n"), prefix + "not a kubeconfig (no mapping at the top)");

  const std::string missing = dir.path() + "/no-such-config";
  const std::string unreadable = load_error(missing);
  EXPECT_NE(unreadable.find(missing), std::string::npos) << unreadable;
  EXPECT_NE(unreadable.find("cannot read"), std::string::npos) << unreadable;

  const std::string bad_yaml = error_of("clusters: [\n");
  EXPECT_NE(bad_yaml.find(dir.path() + "/config:"), std::string::npos) << bad_yaml;
}

// An environment made of a map.
EnvironmentLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(InClusterConfig, ServiceAccountTokenAndCa) {
  TempDir sa;
  sa.write("token", "eyJhbGciOi.token");
  sa.write("ca.crt", "-----BEGIN CERTIFICATE-----\n");
  sa.write("namespace", "llmtap");
  const auto c = in_cluster_config(
      fake_env({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}),
      sa.path());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token_file, sa.path() + "/token");
  EXPECT_EQ(c->token, "");  // read before each request, not now
  EXPECT_EQ(c->ca_file, sa.path() + "/ca.crt");
  EXPECT_EQ(c->ca_pem, "");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->source, "in-cluster service account");
}

TEST(InClusterConfig, Ipv6HostGetsBracketsAndAMissingCaIsTheSystemStore) {
  TempDir sa;
  sa.write("token", "t");
  const auto c = in_cluster_config(
      fake_env({{"KUBERNETES_SERVICE_HOST", "fd00:10:96::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}}),
      sa.path());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->server, "https://[fd00:10:96::1]:6443");
  EXPECT_EQ(c->ca_file, "");
}

TEST(InClusterConfig, HostWithoutTokenIsAnError) {
  TempDir sa;
  sa.write("ca.crt", "ca");
  try {
    in_cluster_config(
        fake_env({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}),
        sa.path());
    FAIL() << "no error";
  } catch (const KubeConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(sa.path() + "/token is missing"), std::string::npos) << what;
    EXPECT_NE(what.find("automountServiceAccountToken"), std::string::npos) << what;
  }
}

TEST(InClusterConfig, NotInAClusterIsNullopt) {
  TempDir sa;
  sa.write("token", "t");
  EXPECT_FALSE(in_cluster_config(fake_env({}), sa.path()).has_value());
  EXPECT_FALSE(in_cluster_config(fake_env({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}}), sa.path())
                   .has_value());
  EXPECT_FALSE(
      in_cluster_config(fake_env({{"KUBERNETES_SERVICE_PORT", "443"}}), sa.path()).has_value());
}

class FindKubeApiConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    sa_.write("token", "t");
    flag_ = dir_.write("flag/config", kubeconfig("    server: https://flag.example.com\n", ""));
    first_ = dir_.write("env/first", kubeconfig("    server: https://first.example.com\n", ""));
    second_ = dir_.write("env/second", kubeconfig("    server: https://second.example.com\n", ""));
  }
  std::map<std::string, std::string> in_cluster_env() const {
    return {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}};
  }

  TempDir dir_;
  TempDir sa_;
  std::string flag_;
  std::string first_;
  std::string second_;
};

TEST_F(FindKubeApiConfig, FlagComesFirst) {
  auto env = in_cluster_env();
  env["KUBECONFIG"] = first_;
  const auto c = find_kube_api_config(flag_, "", fake_env(env), sa_.path());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->server, "https://flag.example.com");
  EXPECT_EQ(c->source, "kubeconfig " + flag_ + " (context dev)");
}

TEST_F(FindKubeApiConfig, ContextIsPassedOn) {
  EXPECT_EQ(find_kube_api_config(flag_, "dev", fake_env({}), sa_.path())->server,
            "https://flag.example.com");
  EXPECT_THROW(find_kube_api_config(flag_, "prod", fake_env({}), sa_.path()), KubeConfigError);
}

TEST_F(FindKubeApiConfig, ThenTheFirstExistingFileOfKubeconfig) {
  auto env = in_cluster_env();
  env["KUBECONFIG"] = dir_.path() + "/missing:" + dir_.path() + "/env:" + second_ + ":" + first_;
  const auto c = find_kube_api_config("", "", fake_env(env), sa_.path());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->server, "https://second.example.com");

  EXPECT_EQ(find_kube_api_config("", "", fake_env({{"KUBECONFIG", first_}}), sa_.path())->server,
            "https://first.example.com");
  EXPECT_EQ(
      find_kube_api_config("", "", fake_env({{"KUBECONFIG", "::" + first_ + ":"}}), sa_.path())
          ->server,
      "https://first.example.com");
}

TEST_F(FindKubeApiConfig, KubeconfigNamingNoFileIsAnError) {
  auto env = in_cluster_env();
  const std::string list = dir_.path() + "/a:" + dir_.path() + "/b";
  env["KUBECONFIG"] = list;
  try {
    find_kube_api_config("", "", fake_env(env), sa_.path());
    FAIL() << "no error";
  } catch (const KubeConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "KUBECONFIG names no readable file: " + list);
  }
}

TEST_F(FindKubeApiConfig, ThenInCluster) {
  const auto c = find_kube_api_config("", "", fake_env(in_cluster_env()), sa_.path());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->source, "in-cluster service account");
}

TEST_F(FindKubeApiConfig, ElseNothing) {
  EXPECT_FALSE(find_kube_api_config("", "", fake_env({}), sa_.path()).has_value());
}

}  // namespace
}  // namespace llmtap::enrich
