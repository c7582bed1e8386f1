#pragma once
// TLS stacks in running processes, for the audit's inventory: which processes use a TLS
// library llmtap sees into (OpenSSL, GnuTLS: it probes their read and write functions) and
// which use one it cannot (Go's crypto/tls, rustls, Java's JSSE: TLS compiled into the program
// or run by the JVM, with no library function to probe), so that blind spots are named.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::audit {

enum class TlsStackKind { kOpenSsl, kGnuTls, kGo, kRustls, kJava };

// "openssl", "gnutls", "go", "rustls", "java".
std::string_view tls_stack_name(TlsStackKind kind);

struct TlsStackUse {
  std::string stack;     // tls_stack_name()
  bool visible = false;  // llmtap can probe it: its TLS functions are in `file`
  std::string file;      // the library or executable carrying it, as the process sees the path
};

// The TLS stacks the ELF file at `path` (library or executable) carries, judged from its
// symbols and sections; `file` is `path`. Empty for a file that is not ELF or has none. A scan
// of section bytes (for stripped Go and Rust programs) reads at most 64 MiB of a section.
std::vector<TlsStackUse> tls_stacks_in_file(const std::string& path);

// The JVM's library, by name: a process that maps it may speak TLS through JSSE.
bool is_jvm_library(std::string_view path);

struct TlsProcess {
  uint32_t pid = 0;
  std::string comm;
  std::string exe;
  std::vector<TlsStackUse> stacks;  // one per stack and file
};

struct TlsInventory {
  std::vector<TlsProcess> processes;  // by pid; only those with at least one TLS stack
  size_t processes_examined = 0;      // whose mapped files were examined
  size_t unreadable = 0;              // maps not readable (gone meanwhile, or no right)
  size_t without_files = 0;           // nothing file-backed mapped: kernel threads, zombies
  size_t files_examined = 0;          // distinct files (by identity) whose contents were read
};

// Every process under `proc_root`, from the files it maps (reached through its own root, so
// processes in containers count). Each distinct file is read once, however many map it. Needs
// the right to read other processes' maps and roots: root or CAP_SYS_PTRACE.
TlsInventory inventory_tls_processes(const std::string& proc_root = "/proc");

}  // namespace llmtap::audit
