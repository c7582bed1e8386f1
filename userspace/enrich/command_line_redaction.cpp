#include "enrich/command_line_redaction.h"

#include <cctype>
#include <string_view>

namespace llmtap::enrich {
namespace {

bool ascii_icontains(std::string_view text, std::string_view needle) {
  if (needle.size() > text.size()) return false;
  for (size_t i = 0; i + needle.size() <= text.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() &&
           std::tolower(static_cast<unsigned char>(text[i + j])) == needle[j]) {
      ++j;
    }
    if (j == needle.size()) return true;
  }
  return false;
}

// A flag whose value is a credential: --api-key, --token, -password, --client-secret ...
bool names_secret(std::string_view flag) {
  if (flag.empty() || flag.front() != '-') return false;
  for (std::string_view word : {"key", "token", "secret", "password", "passwd", "credential"}) {
    if (ascii_icontains(flag, word)) return true;
  }
  return false;
}

}  // namespace

std::string redact_command_line(const std::vector<std::string>& argv) {
  std::string out;
  bool redact_next = false;
  for (const std::string& arg : argv) {
    if (!out.empty()) out += ' ';
    const size_t eq = arg.find('=');
    if (redact_next) {
      out += "[REDACTED]";
      redact_next = false;
    } else if (eq != std::string::npos && names_secret(std::string_view(arg).substr(0, eq))) {
      out.append(arg, 0, eq + 1).append("[REDACTED]");
    } else if (arg.starts_with("sk-") || arg.starts_with("sk_") || arg.starts_with("AKIA") ||
               arg.starts_with("AIza") || arg.starts_with("hf_") || arg.starts_with("xai-") ||
               arg.starts_with("gsk_")) {
      out += "[REDACTED]";
    } else {
      out += arg;
      redact_next = eq == std::string::npos && names_secret(arg);
    }
  }
  return out;
}

}  // namespace llmtap::enrich
