#pragma once
// LLM provider API keys held in processes' environments, for the audit's inventory: which
// process holds which provider's key, by variable name. Never the value: only the first 12 hex
// digits of its SHA-256, the same fingerprint call records carry (api_key_fingerprint), so a
// key seen at rest can be matched with the calls made with it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::audit {

struct EnvironmentKey {
  std::string variable;     // "OPENAI_API_KEY"
  std::string provider;     // the catalog's provider id: "openai"
  std::string fingerprint;  // 12 hex digits of the value's SHA-256
};

// The provider keys in one environment block (NUL-separated NAME=VALUE, as /proc/PID/environ).
// Empty values are skipped.
std::vector<EnvironmentKey> provider_keys_in(std::string_view environ_block);

struct ProcessKeys {
  uint32_t pid = 0;
  std::string comm;
  std::string exe;
  std::vector<EnvironmentKey> keys;
};

// Every process under `proc_root` whose environment holds a provider key (needs the right to
// read other processes' environ: root or CAP_SYS_PTRACE). `unreadable` counts those it could
// not read.
std::vector<ProcessKeys> processes_with_provider_keys(const std::string& proc_root,
                                                      size_t* unreadable = nullptr);

}  // namespace llmtap::audit
