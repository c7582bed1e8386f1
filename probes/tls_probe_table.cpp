#include "probes/tls_probe_table.h"

#include <algorithm>

#include "probes/elf_symbols.h"

namespace llmtap::probes {

const std::vector<FunctionProbe>& known_function_probes() {
  // Reads are taken at return (the real count); so are writes, since only a call that
  // returned > 0 sent anything (node retries SSL_write with the same buffer).
  static const std::vector<FunctionProbe> table = {
      {"SSL_write", "ssl_write_entry", "ssl_call_return"},
      {"SSL_read", "ssl_read_entry", "ssl_call_return"},
      {"SSL_write_ex", "ssl_write_ex_entry", "ssl_call_return"},
      {"SSL_read_ex", "ssl_read_ex_entry", "ssl_call_return"},
      // No data: tells which socket a memory-BIO connection uses before its first write.
      {"SSL_do_handshake", "ssl_handshake_entry", "ssl_call_return", false},
      // The session ends: per-connection state can go. Entry only.
      {"SSL_free", "tls_session_free", "", false},
      {"gnutls_record_send", "gnutls_send_entry", "gnutls_call_return"},
      {"gnutls_record_recv", "gnutls_recv_entry", "gnutls_call_return"},
      {"gnutls_deinit", "tls_session_free", "", false},
  };
  return table;
}

std::vector<FunctionProbe> plan_probes_for_file(const std::string& path, bool watch_loader) {
  std::vector<std::string_view> symbols;
  for (const auto& probe : known_function_probes()) symbols.push_back(probe.symbol);
  if (watch_loader) {
    symbols.push_back(kLoaderProbeSymbol);
    symbols.push_back("_r_debug");
  }
  const auto found = find_defined_symbols(path, symbols);
  if (watch_loader) {
    const auto state = found.find(std::string(kLoaderProbeSymbol));
    const auto debug = found.find("_r_debug");
    if (state != found.end() && state->second.function && debug != found.end() &&
        !debug->second.function && found.size() == 2) {
      // One of the dynamic loader's: no TLS function of its own.
      FunctionProbe probe{kLoaderProbeSymbol, "dl_debug_state", "", false};
      probe.file_offset = state->second.file_offset;
      probe.cookie = debug->second.address - state->second.address;  // wraps if below
      return {probe};
    }
  }
  std::map<std::string, uint64_t> defined;
  for (const auto& [name, symbol] : found) {
    if (symbol.function) defined.emplace(name, symbol.file_offset);
  }

  std::vector<FunctionProbe> plan;
  for (const auto& probe : known_function_probes()) {
    if (auto it = defined.find(std::string(probe.symbol)); it != defined.end()) {
      plan.push_back(probe);
      plan.back().file_offset = it->second;
    }
  }
  // A file with only lifecycle functions carries no data: nothing to capture.
  const bool has_data_function =
      std::any_of(plan.begin(), plan.end(), [](const auto& p) { return p.carries_data; });
  if (!has_data_function) plan.clear();
  return plan;
}

}  // namespace llmtap::probes
