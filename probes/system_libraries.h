#pragma once
// Where the host's own TLS libraries live.

#include <string>
#include <vector>

namespace llmtap::probes {

// The system TLS libraries present on this host (libssl.so.3, libssl.so.1.1,
// libgnutls.so.30), one path per distinct file, from the standard library directories.
std::vector<std::string> find_system_tls_libraries();

}  // namespace llmtap::probes
