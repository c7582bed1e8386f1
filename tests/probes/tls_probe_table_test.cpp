#include "probes/tls_probe_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "probes/system_libraries.h"

namespace llmtap::probes {
namespace {

bool has_symbol(const std::vector<FunctionProbe>& plan, std::string_view symbol) {
  return std::any_of(plan.begin(), plan.end(), [&](const auto& p) { return p.symbol == symbol; });
}

TEST(TlsProbeTable, SystemLibsslGetsEveryOpenSslProbe) {
  const auto libs = find_system_tls_libraries();
  ASSERT_FALSE(libs.empty()) << "no libssl found on this host";
  const auto plan = plan_probes_for_file(libs.front());
  for (const char* symbol :
       {"SSL_write", "SSL_read", "SSL_write_ex", "SSL_read_ex", "SSL_do_handshake"}) {
    EXPECT_TRUE(has_symbol(plan, symbol)) << symbol;
  }
}

TEST(TlsProbeTable, ExecutableCarryingOpenSslStaticallyGetsItsProbes) {
  // Built with the tests from Debian's libssl.a, so this holds on any machine (node may link
  // the system libssl, as Debian's does, or carry its own, as NodeSource's does).
  const auto plan = plan_probes_for_file(LLMTAP_STATIC_OPENSSL_CLIENT);
  for (const char* symbol :
       {"SSL_write", "SSL_read", "SSL_write_ex", "SSL_read_ex", "SSL_do_handshake", "SSL_free"}) {
    EXPECT_TRUE(has_symbol(plan, symbol)) << symbol;
  }
}

TEST(TlsProbeTable, FileWithoutTlsGetsNoPlan) {
  EXPECT_TRUE(plan_probes_for_file("/bin/true").empty());
}

TEST(TlsProbeTable, NonElfIsAnError) {
  EXPECT_THROW(plan_probes_for_file("/etc/hostname"), std::runtime_error);
  EXPECT_THROW(plan_probes_for_file("/nonexistent/libssl.so.3"), std::runtime_error);
}

TEST(SystemLibraries, EachFileListedOnce) {
  const auto libs = find_system_tls_libraries();
  std::vector<std::string> canonical;
  for (const auto& l : libs) canonical.push_back(std::filesystem::canonical(l));
  std::sort(canonical.begin(), canonical.end());
  EXPECT_EQ(std::adjacent_find(canonical.begin(), canonical.end()), canonical.end());
}

}  // namespace
}  // namespace llmtap::probes
