#include "self_signed_certificate.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "openssl_handles.h"

namespace llmtap::testing {
namespace {

constexpr long kOneDaySeconds = 24L * 60 * 60;
constexpr long kValiditySeconds = 365 * kOneDaySeconds;

using FilePtr = std::unique_ptr<FILE, FreeWith<fclose>>;

EvpPkeyPtr generate_p256_key() {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw_openssl_error("generating EC P-256 key");
  return key;
}

void set_random_serial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) throw_openssl_error("generating serial number");
  bytes[0] &= 0x7f;  // serial numbers must be positive
  std::unique_ptr<BIGNUM, FreeWith<BN_free>> serial(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (!serial || !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert))) {
    throw_openssl_error("setting serial number");
  }
}

void set_localhost_name(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  const auto* cn = reinterpret_cast<const unsigned char*>("localhost");
  if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0) ||
      !X509_set_issuer_name(cert, name)) {
    throw_openssl_error("setting certificate name");
  }
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!extension || !X509_add_ext(cert, extension.get(), -1)) {
    throw_openssl_error(std::string("adding certificate extension ") + OBJ_nid2sn(nid));
  }
}

// Extensions that make the certificate acceptable to verifying clients (curl --cacert,
// Python and Node given it as their CA) as well as to the usual unverified test clients.
void add_server_extensions(X509* cert) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  add_extension(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert, &ctx, NID_key_usage, "critical,digitalSignature");
  add_extension(cert, &ctx, NID_ext_key_usage, "serverAuth");
  add_extension(cert, &ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
  add_extension(cert, &ctx, NID_subject_key_identifier, "hash");
  add_extension(cert, &ctx, NID_authority_key_identifier, "keyid:always");
}

X509Ptr make_certificate(EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  if (!cert || !X509_set_version(cert.get(), X509_VERSION_3)) throw_openssl_error("X509_new");
  set_random_serial(cert.get());
  // Backdated so clock skew between processes never makes it "not yet valid".
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kOneDaySeconds) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds)) {
    throw_openssl_error("setting certificate validity");
  }
  set_localhost_name(cert.get());
  if (!X509_set_pubkey(cert.get(), key)) throw_openssl_error("setting certificate key");
  add_server_extensions(cert.get());
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) throw_openssl_error("signing certificate");
  return cert;
}

FilePtr open_for_writing(const std::string& path, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  }
  FilePtr file(::fdopen(fd, "w"));
  if (!file) {
    ::close(fd);
    throw std::runtime_error("fdopen failed for " + path);
  }
  return file;
}

void close_checked(FilePtr file, const std::string& path) {
  if (std::fclose(file.release()) != 0) {
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  }
}

}  // namespace

void write_self_signed_certificate(const std::string& cert_path, const std::string& key_path) {
  const EvpPkeyPtr key = generate_p256_key();
  const X509Ptr cert = make_certificate(key.get());

  FilePtr key_file = open_for_writing(key_path, 0600);
  if (!PEM_write_PrivateKey(key_file.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr)) {
    throw_openssl_error("writing private key to " + key_path);
  }
  close_checked(std::move(key_file), key_path);

  FilePtr cert_file = open_for_writing(cert_path, 0644);
  if (!PEM_write_X509(cert_file.get(), cert.get())) {
    throw_openssl_error("writing certificate to " + cert_path);
  }
  close_checked(std::move(cert_file), cert_path);
}

}  // namespace llmtap::testing
