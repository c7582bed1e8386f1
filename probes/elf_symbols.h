#pragma once
// Which functions an ELF file (shared library or executable) defines and exports.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::probes {

// Those of `wanted` that `path` defines as functions (in .dynsym or .symtab), each with its
// file offset (where a uprobe goes). Throws std::runtime_error when the file is not ELF.
std::map<std::string, uint64_t> find_defined_functions(const std::string& path,
                                                       const std::vector<std::string_view>& wanted);

}  // namespace llmtap::probes
