#pragma once
// Which functions an ELF file (shared library or executable) defines and exports.

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::probes {

// Returns those of `wanted` that `path` defines as functions (in .dynsym or .symtab).
// Throws std::runtime_error when the file cannot be read as ELF.
std::set<std::string> find_defined_functions(const std::string& path,
                                             const std::vector<std::string_view>& wanted);

}  // namespace llmtap::probes
