// RAII owners for OpenSSL objects and file descriptors used by the test fixtures.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace llmtap::testing {

// unique_ptr deleter calling a C free function, e.g. FreeWith<SSL_free>.
template <auto FreeFn>
struct FreeWith {
  template <typename T>
  void operator()(T* ptr) const {
    FreeFn(ptr);
  }
};

using SslCtxPtr = std::unique_ptr<SSL_CTX, FreeWith<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, FreeWith<SSL_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, FreeWith<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, FreeWith<X509_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, FreeWith<X509_EXTENSION_free>>;
using BioPtr = std::unique_ptr<BIO, FreeWith<BIO_free_all>>;

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Drains the thread's OpenSSL error queue into one readable string.
std::string openssl_error_string();

// Throws std::runtime_error("<context>: <OpenSSL error queue>").
[[noreturn]] void throw_openssl_error(std::string_view context);

}  // namespace llmtap::testing
