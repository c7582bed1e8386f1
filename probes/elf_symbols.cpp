#include "probes/elf_symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

namespace llmtap::probes {
namespace {

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

struct ElfDeleter {
  void operator()(Elf* elf) const { elf_end(elf); }
};

bool is_function(const GElf_Sym& sym) {
  const int type = GELF_ST_TYPE(sym.st_info);
  return type == STT_FUNC || type == STT_GNU_IFUNC;
}

bool is_defined_symbol(const GElf_Sym& sym) {
  const int type = GELF_ST_TYPE(sym.st_info);
  const int bind = GELF_ST_BIND(sym.st_info);
  return (is_function(sym) || type == STT_OBJECT) && sym.st_shndx != SHN_UNDEF &&
         sym.st_shndx < SHN_LORESERVE && (bind == STB_GLOBAL || bind == STB_WEAK) &&
         sym.st_value != 0;
}

// A symbol's address -> its offset in the file, through the section that holds it.
std::optional<uint64_t> file_offset_of(Elf* elf, const GElf_Sym& sym) {
  Elf_Scn* scn = elf_getscn(elf, sym.st_shndx);
  GElf_Shdr shdr;
  if (scn == nullptr || gelf_getshdr(scn, &shdr) == nullptr) return std::nullopt;
  return sym.st_value - shdr.sh_addr + shdr.sh_offset;
}

void collect_from_section(Elf* elf, Elf_Scn* scn, const GElf_Shdr& shdr,
                          const std::vector<std::string_view>& wanted,
                          std::map<std::string, DefinedSymbol>& found) {
  Elf_Data* data = elf_getdata(scn, nullptr);
  if (data == nullptr || shdr.sh_entsize == 0) return;
  const size_t count = shdr.sh_size / shdr.sh_entsize;
  for (size_t i = 0; i < count; ++i) {
    GElf_Sym sym;
    if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr || !is_defined_symbol(sym)) {
      continue;
    }
    const char* name = elf_strptr(elf, shdr.sh_link, sym.st_name);
    if (name == nullptr) continue;
    const std::string_view n(name);
    if (std::find(wanted.begin(), wanted.end(), n) == wanted.end()) continue;
    if (auto offset = file_offset_of(elf, sym)) {
      found.emplace(n, DefinedSymbol{sym.st_value, *offset, is_function(sym)});
    }
  }
}

}  // namespace

std::map<std::string, uint64_t> find_defined_functions(const std::string& path,
                                                       const std::vector<std::string_view>& wanted) {
  std::map<std::string, uint64_t> functions;
  for (const auto& [name, symbol] : find_defined_symbols(path, wanted)) {
    if (symbol.function) functions.emplace(name, symbol.file_offset);
  }
  return functions;
}

std::map<std::string, DefinedSymbol> find_defined_symbols(
    const std::string& path, const std::vector<std::string_view>& wanted) {
  if (elf_version(EV_CURRENT) == EV_NONE) throw std::runtime_error("libelf initialisation failed");
  FdCloser file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  }
  std::unique_ptr<Elf, ElfDeleter> elf(elf_begin(file.fd, ELF_C_READ_MMAP, nullptr));
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) {
    throw std::runtime_error(path + " is not an ELF file");
  }

  std::map<std::string, DefinedSymbol> found;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf.get(), scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr) continue;
    if (shdr.sh_type == SHT_DYNSYM || shdr.sh_type == SHT_SYMTAB) {
      collect_from_section(elf.get(), scn, shdr, wanted, found);
    }
  }
  return found;
}

}  // namespace llmtap::probes
