#pragma once
// BPF tests skip where BPF cannot load (not root, no BTF), except under LLMTAP_REQUIRE_BPF=1
// (CI), where that is a failure: BPF tests never skip silently there.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace llmtap::e2e {

inline bool bpf_required() {
  const char* v = std::getenv("LLMTAP_REQUIRE_BPF");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

}  // namespace llmtap::e2e

#define LLMTAP_BPF_UNAVAILABLE(reason)                                    \
  do {                                                                    \
    if (::llmtap::e2e::bpf_required()) {                                  \
      FAIL() << "BPF required (LLMTAP_REQUIRE_BPF=1) but: " << (reason);  \
    } else {                                                              \
      GTEST_SKIP() << "BPF unavailable: " << (reason);                    \
    }                                                                     \
  } while (0)

#define LLMTAP_REQUIRE_ROOT()                                    \
  do {                                                           \
    if (geteuid() != 0) LLMTAP_BPF_UNAVAILABLE("not running as root"); \
  } while (0)
