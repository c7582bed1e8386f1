#pragma once
// The Host header (or :authority) of a request, split into a lowercase name and a port, in a
// fixed buffer so that matching every request head does not allocate.

#include <array>
#include <cstddef>
#include <string_view>

namespace llmtap::llm {

class RequestHost {
 public:
  static constexpr size_t kMaxNameBytes = 255;  // DNS names are at most 253 bytes

  // Accepts "name", "name:port", "[v6]" and "[v6]:port"; a trailing dot on the name is dropped.
  explicit RequestHost(std::string_view authority);

  // Lowercase; empty when absent or longer than kMaxNameBytes (then only `*` patterns match).
  std::string_view name() const { return {name_.data(), size_}; }
  int port() const { return port_; }  // -1 when the authority names no port

 private:
  std::array<char, kMaxNameBytes> name_;  // only the first size_ are set
  size_t size_ = 0;
  int port_ = -1;
};

// Parses a decimal TCP port (1..65535); -1 if `text` is not one.
int parse_port(std::string_view text);

}  // namespace llmtap::llm
