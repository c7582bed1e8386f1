#pragma once
// Checks every OCSF event encoder's output shares: one event a line, no null anywhere.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::sink::testing {

// The one event in `line` (which must end in its only newline), parsed.
inline nlohmann::json parse_event_line(const std::string& line) {
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one event, one line";
  return nlohmann::json::parse(line);
}

// Absent values are left out, so no member anywhere may be null.
inline void expect_no_nulls(const nlohmann::json& value, const std::string& path = "") {
  ASSERT_FALSE(value.is_null()) << path;
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) expect_no_nulls(member, path + "." + key);
  } else if (value.is_array()) {
    for (const auto& element : value) expect_no_nulls(element, path + "[]");
  }
}

// The OCSF project's rules, offline (LLMTAP_OCSF_VALIDATOR): all `count` events in `lines`
// valid OCSF 1.9.0, without a warning but those naming one of `known_warnings`. Skips without
// the validator unless every check must run.
inline void expect_valid_ocsf(const std::string& lines, size_t count,
                              const std::vector<std::string>& known_warnings = {}) {
  const std::filesystem::path validator = LLMTAP_OCSF_VALIDATOR;
  if (!std::filesystem::exists(validator)) {
    const char* require = std::getenv("LLMTAP_REQUIRE_BPF");
    if (require != nullptr && std::string_view(require) == "1") {
      FAIL() << "OCSF validator not found at " << validator
             << " (LLMTAP_REQUIRE_BPF=1 requires every check to run)";
    }
    GTEST_SKIP() << "OCSF validator not found at " << validator;
  }
  char path[] = "/tmp/llmtap-ocsf-events-XXXXXX.jsonl";
  const int fd = mkstemps(path, 6);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << lines;
  const std::string command =
      "python3 '" + validator.string() + "' --version 1.9.0 '" + path + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string report;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) report.append(buf, n);
  const int status = pclose(pipe);
  std::filesystem::remove(path);
  ASSERT_TRUE(WIFEXITED(status)) << report;
  EXPECT_EQ(WEXITSTATUS(status), 0) << report;
  const std::string verdict = "ocsf: " + std::to_string(count) + "/" + std::to_string(count) +
                              " events valid (version 1.9.0)";
  EXPECT_NE(report.find(verdict), std::string::npos) << report;
  size_t start = 0;
  for (size_t nl; (nl = report.find('\n', start)) != std::string::npos; start = nl + 1) {
    const std::string line = report.substr(start, nl - start);
    if (line.find("warning:") == std::string::npos) continue;
    bool known = false;
    for (const auto& w : known_warnings) known = known || line.find(w) != std::string::npos;
    EXPECT_TRUE(known) << line << "\n" << report;
  }
}

}  // namespace llmtap::sink::testing
