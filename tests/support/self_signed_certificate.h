// Throwaway TLS identity for the test server.
#pragma once

#include <string>

namespace llmtap::testing {

// Writes a fresh self-signed EC P-256 certificate (CN=localhost, SAN DNS:localhost,
// IP:127.0.0.1, IP:::1, valid from one day ago for one year) and its unencrypted private key,
// both PEM. The key file is created with mode 0600. Throws std::runtime_error on failure.
void write_self_signed_certificate(const std::string& cert_path, const std::string& key_path);

}  // namespace llmtap::testing
