#include "audit/tls_stacks.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>

#include "common/file_prefix.h"
#include "probes/file_identity.h"
#include "probes/process_maps.h"
#include "probes/tls_probe_table.h"

namespace llmtap::audit {
namespace {

// A section scan reads no further: Go's function-name table is tens of MiB in the largest
// programs (terraform's: 25 MiB), and hosts with ML libraries map files of several GiB.
constexpr size_t kMaxScanBytes = size_t{64} << 20;
constexpr size_t kMaxMapsBytes = size_t{16} << 20;

// The method every Go TLS connection sends through: linked by any Go program speaking TLS.
constexpr std::string_view kGoTlsFunction = "crypto/tls.(*Conn).Write";
constexpr std::string_view kRustls = "rustls";
// rustc's mark in .comment, which stripping keeps.
constexpr std::string_view kRustcComment = "rustc version";

using NameFilter = std::function<bool(std::string_view)>;

// An ELF file read through libelf's mapping: only the sections looked at are paged in.
class ElfReader {
 public:
  explicit ElfReader(const std::string& path) {
    if (elf_version(EV_CURRENT) == EV_NONE) return;
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return;
    elf_ = elf_begin(fd_, ELF_C_READ_MMAP, nullptr);
    if (elf_ != nullptr &&
        (elf_kind(elf_) != ELF_K_ELF || elf_getshdrstrndx(elf_, &section_names_) != 0)) {
      elf_end(elf_);
      elf_ = nullptr;
    }
  }
  ~ElfReader() {
    if (elf_ != nullptr) elf_end(elf_);
    if (fd_ >= 0) ::close(fd_);
  }
  ElfReader(const ElfReader&) = delete;
  ElfReader& operator=(const ElfReader&) = delete;

  bool valid() const { return elf_ != nullptr; }

  bool has_section(std::string_view name) const {
    return find_section([&](std::string_view n, const GElf_Shdr&, Elf_Scn*) { return n == name; });
  }

  bool has_symtab() const {
    return find_section([](std::string_view, const GElf_Shdr& header, Elf_Scn*) {
      return header.sh_type == SHT_SYMTAB;
    });
  }

  // Whether a section `wanted` names holds `needle` within its first kMaxScanBytes.
  bool section_contains(const NameFilter& wanted, std::string_view needle) const {
    return find_section([&](std::string_view name, const GElf_Shdr& header, Elf_Scn* scn) {
      if (header.sh_type == SHT_NOBITS || (header.sh_flags & SHF_COMPRESSED) != 0 ||
          !wanted(name)) {
        return false;
      }
      Elf_Data* data = elf_rawdata(scn, nullptr);
      if (data == nullptr || data->d_buf == nullptr) return false;
      const std::string_view bytes(static_cast<const char*>(data->d_buf),
                                   std::min(data->d_size, kMaxScanBytes));
      return bytes.find(needle) != std::string_view::npos;
    });
  }

  // Whether a symbol of .symtab or .dynsym has a name `match` accepts.
  bool any_symbol(const NameFilter& match) const {
    return find_section([&](std::string_view, const GElf_Shdr& header, Elf_Scn* scn) {
      if ((header.sh_type != SHT_SYMTAB && header.sh_type != SHT_DYNSYM) ||
          header.sh_entsize == 0) {
        return false;
      }
      Elf_Data* data = elf_getdata(scn, nullptr);
      if (data == nullptr) return false;
      const size_t count = header.sh_size / header.sh_entsize;
      for (size_t i = 0; i < count; ++i) {
        GElf_Sym sym;
        if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) continue;
        const char* name = elf_strptr(elf_, header.sh_link, sym.st_name);
        if (name != nullptr && match(name)) return true;
      }
      return false;
    });
  }

 private:
  using SectionFilter = std::function<bool(std::string_view, const GElf_Shdr&, Elf_Scn*)>;

  // Whether some section (by name, header and section) is one `accept` takes.
  bool find_section(const SectionFilter& accept) const {
    if (elf_ == nullptr) return false;
    Elf_Scn* scn = nullptr;
    while ((scn = elf_nextscn(elf_, scn)) != nullptr) {
      GElf_Shdr header;
      if (gelf_getshdr(scn, &header) == nullptr) continue;
      const char* name = elf_strptr(elf_, section_names_, header.sh_name);
      if (accept(name != nullptr ? name : "", header, scn)) return true;
    }
    return false;
  }

  int fd_ = -1;
  Elf* elf_ = nullptr;
  size_t section_names_ = 0;
};

// A Go program (or c-shared library) that links crypto/tls.
bool carries_go_tls(const ElfReader& elf) {
  if (!elf.has_section(".go.buildinfo") && !elf.has_section(".note.go.buildid")) return false;
  if (elf.has_symtab()) {
    return elf.any_symbol([](std::string_view name) { return name == kGoTlsFunction; });
  }
  // Stripped: function names stay in the pclntab, a section of its own or, in
  // position-independent builds, part of .data.rel.ro.
  return elf.section_contains(
      [](std::string_view name) {
        return name == ".gopclntab" || name.starts_with(".data.rel.ro");
      },
      kGoTlsFunction);
}

// A Rust symbol in a rustls path (a path component is length-prefixed in both manglings:
// _ZN6rustls4conn..., _RNv...6rustls...), or a function of rustls-ffi's C API.
bool names_rustls(std::string_view symbol) {
  const bool rust_mangled = symbol.starts_with("_ZN") || symbol.starts_with("_R");
  return (rust_mangled && symbol.find("6rustls") != std::string_view::npos) ||
         symbol.starts_with("rustls_");
}

// A Rust program or library with rustls inside.
bool carries_rustls(const ElfReader& elf) {
  if (elf.any_symbol(names_rustls)) return true;
  if (elf.has_symtab()) return false;  // rustls's functions would be in it
  // Stripped: rustls's panic locations name its source files among the constants. Looked for
  // only where rustc built part of the file: C programs mention rustls too (curl's backends),
  // and every library's constants would be a lot to read.
  return elf.section_contains([](std::string_view name) { return name == ".comment"; },
                              kRustcComment) &&
         elf.section_contains([](std::string_view name) { return name.starts_with(".rodata"); },
                              kRustls);
}

// The stack whose functions llmtap probes in the file, if any.
std::optional<TlsStackKind> probed_stack(const std::string& path) {
  std::vector<probes::FunctionProbe> plan;
  try {
    plan = probes::plan_probes_for_file(path);
  } catch (const std::runtime_error&) {
    return std::nullopt;  // not ELF, or gone
  }
  if (plan.empty()) return std::nullopt;
  const bool gnutls = std::any_of(plan.begin(), plan.end(), [](const probes::FunctionProbe& p) {
    return p.symbol.starts_with("gnutls_");
  });
  return gnutls ? TlsStackKind::kGnuTls : TlsStackKind::kOpenSsl;
}

TlsStackUse use_of(TlsStackKind kind, bool visible, const std::string& file) {
  return {std::string(tls_stack_name(kind)), visible, file};
}

bool all_digits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// A /proc text of at most `limit` bytes (maps are a few KiB, a JVM's a few MiB), cut after its
// last whole line when the limit is hit. nullopt when it cannot be opened.
std::optional<std::string> read_proc_text(const std::string& path, size_t limit) {
  auto text = read_file_prefix(path, limit);
  if (text && text->size() == limit) text->resize(text->rfind('\n') + 1);  // npos + 1 == 0
  return text;
}

void add_use(std::vector<TlsStackUse>& stacks, TlsStackUse use) {
  const bool known = std::any_of(stacks.begin(), stacks.end(), [&](const TlsStackUse& s) {
    return s.stack == use.stack && s.file == use.file;
  });
  if (!known) stacks.push_back(std::move(use));
}

}  // namespace

std::string_view tls_stack_name(TlsStackKind kind) {
  switch (kind) {
    case TlsStackKind::kOpenSsl:
      return "openssl";
    case TlsStackKind::kGnuTls:
      return "gnutls";
    case TlsStackKind::kGo:
      return "go";
    case TlsStackKind::kRustls:
      return "rustls";
    case TlsStackKind::kJava:
      return "java";
  }
  return "unknown";
}

std::vector<TlsStackUse> tls_stacks_in_file(const std::string& path) {
  std::vector<TlsStackUse> stacks;
  if (auto kind = probed_stack(path)) stacks.push_back(use_of(*kind, true, path));
  const ElfReader elf(path);
  if (!elf.valid()) return stacks;
  if (carries_go_tls(elf)) stacks.push_back(use_of(TlsStackKind::kGo, false, path));
  if (carries_rustls(elf)) stacks.push_back(use_of(TlsStackKind::kRustls, false, path));
  return stacks;
}

bool is_jvm_library(std::string_view path) {
  const size_t slash = path.rfind('/');
  return path.substr(slash == std::string_view::npos ? 0 : slash + 1) == "libjvm.so";
}

TlsInventory inventory_tls_processes(const std::string& proc_root) {
  TlsInventory inventory;
  std::map<probes::FileIdentity, std::vector<TlsStackUse>> by_file;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(proc_root, ec)) {
    const std::string name = entry.path().filename().string();
    if (!all_digits(name)) continue;
    const std::string dir = entry.path().string();
    const auto maps = read_proc_text(dir + "/maps", kMaxMapsBytes);
    if (!maps) {
      ++inventory.unreadable;
      continue;
    }
    const std::vector<probes::MappedFile> files = probes::parse_mapped_files(*maps);
    if (files.empty()) {
      ++inventory.without_files;
      continue;
    }
    ++inventory.processes_examined;

    TlsProcess process;
    for (const probes::MappedFile& file : files) {
      if (is_jvm_library(file.path))
        add_use(process.stacks, use_of(TlsStackKind::kJava, false, file.path));
      // Code is what carries a TLS stack; data files (fonts, locales, model weights) are not read.
      if (!file.executable) continue;
      const probes::OpenedFile opened(dir + "/root" + file.path);
      if (!opened.valid()) continue;
      auto [known, fresh] = by_file.try_emplace(opened.identity());
      if (fresh) known->second = tls_stacks_in_file(opened.fd_path());
      for (TlsStackUse use : known->second) {
        use.file = file.path;
        add_use(process.stacks, std::move(use));
      }
    }
    if (process.stacks.empty()) continue;
    process.pid = static_cast<uint32_t>(std::stoul(name));
    process.comm = read_file_prefix(dir + "/comm", 64).value_or("");
    while (!process.comm.empty() && process.comm.back() == '\n') process.comm.pop_back();
    std::error_code link_ec;
    process.exe = std::filesystem::read_symlink(entry.path() / "exe", link_ec).string();
    inventory.processes.push_back(std::move(process));
  }
  inventory.files_examined = by_file.size();
  std::sort(inventory.processes.begin(), inventory.processes.end(),
            [](const TlsProcess& a, const TlsProcess& b) { return a.pid < b.pid; });
  return inventory;
}

}  // namespace llmtap::audit
