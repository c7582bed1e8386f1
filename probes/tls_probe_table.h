#pragma once
// Which BPF program goes on which function of which TLS library: data, not code.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::probes {

// One function to probe: an entry program and a return program (BPF program names; an
// empty return program means entry only).
struct FunctionProbe {
  std::string_view symbol;
  std::string_view entry_program;
  std::string_view return_program;
  bool carries_data = true;  // false for lifecycle functions (handshake, free)
  uint64_t file_offset = 0;  // where the function starts in a given file (set by the plan)
  uint64_t cookie = 0;       // the BPF cookie the probe is attached with (set by the plan)
};

// Every function llmtap knows how to probe, across TLS libraries.
const std::vector<FunctionProbe>& known_function_probes();

// The probes that apply to `path`: those whose symbol the file defines, with its offset
// there (so attaching needs no second symbol lookup). Empty when the file
// carries no TLS library llmtap knows. Throws std::runtime_error when it is not readable ELF.
// With `watch_loader`, a glibc dynamic loader (ld.so) gets its one probe too: on
// _dl_debug_state, whose cookie is the distance to _r_debug (see the BPF side).
std::vector<FunctionProbe> plan_probes_for_file(const std::string& path, bool watch_loader = false);

// The loader probe's symbol (a plan holding it is a dynamic loader's).
inline constexpr std::string_view kLoaderProbeSymbol = "_dl_debug_state";

}  // namespace llmtap::probes
