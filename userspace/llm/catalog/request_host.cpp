#include "llm/catalog/request_host.h"

namespace llmtap::llm {

int parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return -1;
  int port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    port = port * 10 + (c - '0');
  }
  return port >= 1 && port <= 65535 ? port : -1;
}

RequestHost::RequestHost(std::string_view authority) {
  std::string_view name = authority;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close != std::string_view::npos) {
      name = authority.substr(0, close + 1);
      const std::string_view rest = authority.substr(close + 1);
      if (rest.size() > 1 && rest.front() == ':') port_ = parse_port(rest.substr(1));
    }
  } else if (const size_t colon = authority.find(':');
             colon != std::string_view::npos &&
             authority.find(':', colon + 1) == std::string_view::npos) {
    name = authority.substr(0, colon);
    port_ = parse_port(authority.substr(colon + 1));
  }
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.size() > kMaxNameBytes) return;
  for (char c : name) {
    name_[size_++] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
}

}  // namespace llmtap::llm
