#include "enrich/command_line_redaction.h"

#include <array>
#include <cctype>
#include <string_view>

#include "common/credential_shapes.h"

namespace llmtap::enrich {
namespace {

constexpr std::string_view kRedacted = "[REDACTED]";

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The words of a flag name: "--openai-api-key" -> openai, api, key.
bool flag_names_secret(std::string_view flag) {
  if (flag.empty() || flag.front() != '-') return false;
  const std::string name = lower(flag);
  static constexpr std::array kWords = {"key",    "apikey",     "token", "secret", "password",
                                        "passwd", "credential", "auth",  "bearer", "pass"};
  size_t start = name.find_first_not_of('-');
  while (start != std::string::npos && start < name.size()) {
    size_t end = name.find_first_of("-_.", start);
    if (end == std::string::npos) end = name.size();
    const std::string_view word(name.data() + start, end - start);
    for (std::string_view secret : kWords) {
      if (word == secret) return true;
    }
    start = name.find_first_not_of("-_.", end);
  }
  return false;
}

// Flags whose next argument is a credential or carries one (curl's -u, -H).
bool is_user_flag(std::string_view arg) { return arg == "-u" || arg == "--user"; }
bool is_header_flag(std::string_view arg) { return arg == "-H" || arg == "--header"; }

// "Authorization: Bearer x" and friends: the header name stays, the value goes.
bool header_carries_secret(std::string_view header) {
  const size_t colon = header.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string name = lower(header.substr(0, colon));
  for (std::string_view secret : {"authorization", "proxy-authorization", "x-api-key", "api-key",
                                  "x-goog-api-key", "cookie", "x-auth-token"}) {
    if (name == secret) return true;
  }
  return false;
}

// URL query parameters that carry credentials: ?key=..., &access_token=...
void redact_query_secrets(std::string& arg) {
  static constexpr std::array kParams = {
      "key=", "api_key=", "apikey=", "token=", "access_token=", "sig=", "signature=", "password="};
  for (std::string_view param : kParams) {
    size_t at = 0;
    while ((at = arg.find(param, at)) != std::string::npos) {
      if (at == 0 || (arg[at - 1] != '?' && arg[at - 1] != '&')) {
        at += param.size();
        continue;
      }
      const size_t value = at + param.size();
      size_t end = arg.find_first_of("&# ", value);
      if (end == std::string::npos) end = arg.size();
      arg.replace(value, end - value, kRedacted);
      at = value + kRedacted.size();
    }
  }
}

}  // namespace

std::string redact_command_line(const std::vector<std::string>& argv) {
  std::string out;
  enum class Next { kPlain, kSecret, kHeader } next = Next::kPlain;
  for (const std::string& original : argv) {
    if (!out.empty()) out += ' ';
    std::string arg = original;
    const size_t eq = arg.find('=');
    if (next == Next::kSecret) {
      arg = kRedacted;
    } else if (next == Next::kHeader && header_carries_secret(arg)) {
      arg = arg.substr(0, arg.find(':') + 1) + " " + std::string(kRedacted);
    } else if (eq != std::string::npos && flag_names_secret(std::string_view(arg).substr(0, eq))) {
      arg = arg.substr(0, eq + 1) + std::string(kRedacted);
    } else {
      redact_query_secrets(arg);
      common::redact_credential_shapes(arg);
    }
    const bool flag_alone = eq == std::string::npos;
    if (next != Next::kPlain) {
      next = Next::kPlain;
    } else if (flag_alone && (flag_names_secret(original) || is_user_flag(original))) {
      next = Next::kSecret;
    } else if (is_header_flag(original)) {
      next = Next::kHeader;
    }
    out += arg;
  }
  return out;
}

}  // namespace llmtap::enrich
