#include "openssl_handles.h"

#include <openssl/err.h>

#include <stdexcept>

namespace llmtap::testing {

std::string openssl_error_string() {
  std::string errors;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!errors.empty()) errors += "; ";
    errors += buffer;
  }
  return errors.empty() ? "no OpenSSL error reported" : errors;
}

void throw_openssl_error(std::string_view context) {
  throw std::runtime_error(std::string(context) + ": " + openssl_error_string());
}

}  // namespace llmtap::testing
