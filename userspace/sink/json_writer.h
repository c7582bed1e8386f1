#pragma once
// A small streaming JSON writer over a caller's std::string: it places the commas, so event
// formatters can leave out absent values without tracking which member came first. Keys are
// the formatters' own literals and are written as given; values are escaped.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace llmtap::sink {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void begin_object();  // the top-level value
  void begin_object(std::string_view key);
  void end_object();
  void begin_array(std::string_view key);
  void end_array();

  void string(std::string_view key, std::string_view value);
  // Omitted when `value` is empty: the formatters' "absent".
  void string_if(std::string_view key, std::string_view value);
  // One string value made of `parts`, escaped as one, without building it first.
  void string_parts(std::string_view key, std::initializer_list<std::string_view> parts);
  void number(std::string_view key, uint64_t value);
  // `value` rounded to `decimals` (0 to 17) places, trailing zeros dropped ("0.0125", "3").
  // Omitted when not finite: JSON has no NaN or infinity.
  void number_fixed(std::string_view key, double value, int decimals);
  void boolean(std::string_view key, bool value);
  void element(std::string_view value);  // a string in the array being written

 private:
  void next_member();  // the comma, unless this is the first member at this depth
  void key(std::string_view key);
  void open(char bracket);
  void close(char bracket);

  std::string& out_;
  uint64_t has_member_ = 0;  // bit d: the container at depth d already has a member
  unsigned depth_ = 0;
};

}  // namespace llmtap::sink
