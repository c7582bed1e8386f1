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

struct DefinedSymbol {
  uint64_t address = 0;      // st_value: the symbol's virtual address in the file's image
  uint64_t file_offset = 0;  // where it lies in the file
  bool function = false;     // else a data object
};

// Those of `wanted` that `path` defines as functions or data objects.
std::map<std::string, DefinedSymbol> find_defined_symbols(
    const std::string& path, const std::vector<std::string_view>& wanted);

}  // namespace llmtap::probes
