#include "probes/tls_probe_table.h"

#include <algorithm>

#include "probes/elf_symbols.h"

namespace llmtap::probes {

std::string_view to_string(TlsLibrary lib) {
  switch (lib) {
    case TlsLibrary::kOpenSsl:
      return "openssl";
    case TlsLibrary::kGnuTls:
      return "gnutls";
  }
  return "unknown";
}

const std::vector<FunctionProbe>& known_function_probes() {
  // Reads are taken at return (the real count); so are writes, since only a call that
  // returned > 0 sent anything (node retries SSL_write with the same buffer).
  static const std::vector<FunctionProbe> table = {
      {"SSL_write", "ssl_write_entry", "ssl_call_return", TlsLibrary::kOpenSsl},
      {"SSL_read", "ssl_read_entry", "ssl_call_return", TlsLibrary::kOpenSsl},
      {"SSL_write_ex", "ssl_write_ex_entry", "ssl_call_return", TlsLibrary::kOpenSsl},
      {"SSL_read_ex", "ssl_read_ex_entry", "ssl_call_return", TlsLibrary::kOpenSsl},
      // No data: tells which socket a memory-BIO connection uses before its first write.
      {"SSL_do_handshake", "ssl_handshake_entry", "ssl_call_return", TlsLibrary::kOpenSsl},
  };
  return table;
}

std::vector<FunctionProbe> plan_probes_for_file(const std::string& path) {
  std::vector<std::string_view> symbols;
  for (const auto& probe : known_function_probes()) symbols.push_back(probe.symbol);
  const auto defined = find_defined_functions(path, symbols);

  std::vector<FunctionProbe> plan;
  for (const auto& probe : known_function_probes()) {
    if (defined.contains(std::string(probe.symbol))) plan.push_back(probe);
  }
  // A file with only SSL_do_handshake carries no data functions: nothing to capture.
  const bool has_data_function = std::any_of(plan.begin(), plan.end(), [](const auto& p) {
    return p.symbol != "SSL_do_handshake";
  });
  if (!has_data_function) plan.clear();
  return plan;
}

}  // namespace llmtap::probes
