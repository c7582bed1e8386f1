// The TLS stack inventory: what ELF files carry (small programs dressed as Go and Rust programs,
// the system's TLS libraries, a static OpenSSL, ls), then live processes named by the stacks
// they map.
#include "audit/tls_stacks.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "probes/system_libraries.h"

namespace llmtap::audit {
namespace {

namespace fs = std::filesystem;

// "go hidden", "openssl visible": a use in one word pair, for whole-vector comparisons.
std::vector<std::string> described(const std::vector<TlsStackUse>& uses) {
  std::vector<std::string> out;
  for (const TlsStackUse& u : uses) out.push_back(u.stack + (u.visible ? " visible" : " hidden"));
  return out;
}

using Described = std::vector<std::string>;

TEST(TlsStacks, GoProgramsThatLinkCryptoTls) {
  EXPECT_EQ(described(tls_stacks_in_file(LLMTAP_TLS_FIXTURE_GO)), Described{"go hidden"})
      << "stripped: crypto/tls in the function-name table";
  EXPECT_EQ(described(tls_stacks_in_file(LLMTAP_TLS_FIXTURE_GO_SYMBOL)), Described{"go hidden"})
      << "crypto/tls in the symbol table";
  EXPECT_EQ(described(tls_stacks_in_file(LLMTAP_TLS_FIXTURE_GO_WITHOUT_TLS)), Described{})
      << "a Go program without crypto/tls speaks no TLS";
}

TEST(TlsStacks, RustProgramsWithRustls) {
  const auto by_symbol = tls_stacks_in_file(LLMTAP_TLS_FIXTURE_RUSTLS_SYMBOL);
  EXPECT_EQ(described(by_symbol), Described{"rustls hidden"});
  ASSERT_EQ(by_symbol.size(), 1u);
  EXPECT_EQ(by_symbol[0].file, LLMTAP_TLS_FIXTURE_RUSTLS_SYMBOL);
  EXPECT_EQ(described(tls_stacks_in_file(LLMTAP_TLS_FIXTURE_RUSTLS_STRIPPED)),
            Described{"rustls hidden"})
      << "stripped: rustc's mark and a rustls source path among the constants";
  EXPECT_EQ(described(tls_stacks_in_file(LLMTAP_TLS_FIXTURE_RUSTLS_TEXT)), Described{})
      << "a C program that only mentions rustls";
}

TEST(TlsStacks, OpenSslAndGnuTlsAreVisible) {
  const auto libraries = probes::find_system_tls_libraries();
  ASSERT_FALSE(libraries.empty()) << "no system libssl or libgnutls";
  for (const std::string& library : libraries) {
    const std::string stack = library.find("gnutls") != std::string::npos ? "gnutls" : "openssl";
    const auto uses = tls_stacks_in_file(library);
    EXPECT_EQ(described(uses), Described{stack + " visible"}) << library;
    if (!uses.empty()) {
      EXPECT_EQ(uses[0].file, library);
    }
  }
  EXPECT_EQ(described(tls_stacks_in_file(LLMTAP_STATIC_OPENSSL_CLIENT)),
            Described{"openssl visible"})
      << "OpenSSL linked into the executable";
}

TEST(TlsStacks, NothingInOtherFiles) {
  EXPECT_EQ(described(tls_stacks_in_file("/usr/bin/ls")), Described{});
  EXPECT_EQ(described(tls_stacks_in_file(LLMTAP_TLS_FIXTURE_MAP_FILE)), Described{});
  const fs::path text = fs::temp_directory_path() / ("llmtap-tls-text-" + std::to_string(getpid()));
  std::ofstream(text) << "crypto/tls.(*Conn).Write rustls SSL_write\n";
  EXPECT_EQ(described(tls_stacks_in_file(text)), Described{}) << "not ELF";
  fs::remove(text);
  EXPECT_EQ(described(tls_stacks_in_file("/nonexistent/libssl.so.3")), Described{});
}

TEST(TlsStacks, JvmLibraryByName) {
  EXPECT_TRUE(is_jvm_library("/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so"));
  EXPECT_TRUE(is_jvm_library("libjvm.so"));
  EXPECT_FALSE(is_jvm_library("/usr/lib/jvm/java-17-openjdk-amd64/lib/libjli.so"));
  EXPECT_FALSE(is_jvm_library("/opt/notlibjvm.so"));
  EXPECT_FALSE(is_jvm_library("/opt/libjvm.so.bak"));
}

// A child that prints "ready" once set up and then waits; killed and reaped when done with.
class ReadyChild {
 public:
  explicit ReadyChild(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      execv(args[0], args.data());
      _exit(127);
    }
    close(out[1]);
    if (pid_ > 0) ready_ = wait_for_ready(out[0]);
    close(out[0]);
  }
  ~ReadyChild() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  ReadyChild(const ReadyChild&) = delete;
  ReadyChild& operator=(const ReadyChild&) = delete;

  pid_t pid() const { return pid_; }
  bool ready() const { return ready_; }

 private:
  static bool wait_for_ready(int fd) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::string said;
    while (said.find("ready\n") == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd, POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[256];
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) return false;
      said.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  pid_t pid_ = -1;
  bool ready_ = false;
};

// A directory removed at the end of the test (after the children, declared before them).
struct TempDirectory {
  fs::path path = fs::temp_directory_path() / ("llmtap-tls-" + std::to_string(getpid()));
  TempDirectory() { fs::create_directories(path); }
  ~TempDirectory() { fs::remove_all(path); }
};

const TlsProcess* find_process(const TlsInventory& inventory, pid_t pid) {
  for (const TlsProcess& p : inventory.processes) {
    if (p.pid == static_cast<uint32_t>(pid)) return &p;
  }
  return nullptr;
}

TEST(TlsStacks, InventoryNamesEachProcessesStacks) {
  // A stand-in JVM library: the Java check goes by the library's name, so any file will do.
  const TempDirectory temp;
  const std::string jvm = fs::canonical(temp.path).string() + "/libjvm.so";
  std::ofstream(jvm) << std::string(4096, '\0');

  ReadyChild go({LLMTAP_TLS_FIXTURE_GO});
  ReadyChild go_without_tls({LLMTAP_TLS_FIXTURE_GO_WITHOUT_TLS});
  ReadyChild rust({LLMTAP_TLS_FIXTURE_RUSTLS_SYMBOL});
  ReadyChild java({LLMTAP_TLS_FIXTURE_MAP_FILE, jvm});
  ASSERT_TRUE(go.ready() && go_without_tls.ready() && rust.ready() && java.ready());
  const bool have_python = fs::exists("/usr/bin/python3");
  std::optional<ReadyChild> python;
  if (have_python) {
    python.emplace(
        std::vector<std::string>{"/usr/bin/python3", "-c",
                                 "import ssl, signal; print('ready', flush=True); signal.pause()"});
    ASSERT_TRUE(python->ready());
  }

  const TlsInventory inventory = inventory_tls_processes();
  EXPECT_GE(inventory.processes_examined, 5u);
  EXPECT_GE(inventory.files_examined, 5u);

  const TlsProcess* g = find_process(inventory, go.pid());
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->comm, "tls-fixture-go");
  EXPECT_EQ(g->exe, fs::canonical(LLMTAP_TLS_FIXTURE_GO).string());
  EXPECT_EQ(described(g->stacks), Described{"go hidden"});
  ASSERT_EQ(g->stacks.size(), 1u);
  EXPECT_EQ(g->stacks[0].file, g->exe) << "found in the executable";

  EXPECT_EQ(find_process(inventory, go_without_tls.pid()), nullptr);

  const TlsProcess* r = find_process(inventory, rust.pid());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(described(r->stacks), Described{"rustls hidden"});

  const TlsProcess* j = find_process(inventory, java.pid());
  ASSERT_NE(j, nullptr);
  EXPECT_EQ(described(j->stacks), Described{"java hidden"});
  ASSERT_EQ(j->stacks.size(), 1u);
  EXPECT_EQ(j->stacks[0].file, jvm);

  // This test links the inventory, whose own functions are named for rustls: not a user of it.
  if (const TlsProcess* self = find_process(inventory, getpid())) {
    for (const TlsStackUse& u : self->stacks) EXPECT_NE(u.stack, "rustls") << u.file;
  }

  if (!have_python) GTEST_SKIP() << "no /usr/bin/python3";
  const TlsProcess* py = find_process(inventory, python->pid());
  ASSERT_NE(py, nullptr);
  const auto libssl = std::find_if(py->stacks.begin(), py->stacks.end(), [](const TlsStackUse& u) {
    return u.file.find("libssl.so") != std::string::npos;
  });
  ASSERT_NE(libssl, py->stacks.end()) << "python's ssl module maps libssl";
  EXPECT_EQ(libssl->stack, "openssl");
  EXPECT_TRUE(libssl->visible);
}

}  // namespace
}  // namespace llmtap::audit
