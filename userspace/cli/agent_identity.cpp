#include "cli/agent_identity.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <random>

namespace llmtap::cli {
namespace {

// 16 random hex digits: event uids from two runs (or two nodes) never collide.
std::string random_run_id() {
  std::random_device device;
  const uint64_t value = (uint64_t{device()} << 32) ^ device();
  std::array<char, 17> text{};
  std::snprintf(text.data(), text.size(), "%016llx", static_cast<unsigned long long>(value));
  return text.data();
}

}  // namespace

sink::OcsfContext ocsf_context() {
  sink::OcsfContext context;
  context.product_version = LLMTAP_VERSION;
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) == 0) context.hostname = host.data();
  context.uid_prefix = random_run_id();
  return context;
}

}  // namespace llmtap::cli
