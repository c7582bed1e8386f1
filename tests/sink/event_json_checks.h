#pragma once
// Checks every OCSF event encoder's output shares: one event a line, no null anywhere.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

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

}  // namespace llmtap::sink::testing
