#include "sink/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "sink/json_text.h"

namespace llmtap::sink {

void JsonWriter::next_member() {
  const uint64_t bit = uint64_t{1} << depth_;
  if (has_member_ & bit) out_.push_back(',');
  has_member_ |= bit;
}

void JsonWriter::key(std::string_view key) {
  next_member();
  out_.push_back('"');
  out_.append(key);
  out_ += "\":";
}

void JsonWriter::open(char bracket) {
  out_.push_back(bracket);
  ++depth_;
  has_member_ &= ~(uint64_t{1} << depth_);
}

void JsonWriter::close(char bracket) {
  --depth_;
  out_.push_back(bracket);
}

void JsonWriter::begin_object() {
  next_member();
  open('{');
}

void JsonWriter::begin_object(std::string_view k) {
  key(k);
  open('{');
}

void JsonWriter::end_object() { close('}'); }

void JsonWriter::begin_array(std::string_view k) {
  key(k);
  open('[');
}

void JsonWriter::end_array() { close(']'); }

void JsonWriter::string(std::string_view k, std::string_view value) {
  key(k);
  append_json_string(out_, value);
}

void JsonWriter::string_if(std::string_view k, std::string_view value) {
  if (!value.empty()) string(k, value);
}

void JsonWriter::string_parts(std::string_view k, std::initializer_list<std::string_view> parts) {
  key(k);
  out_.push_back('"');
  for (const std::string_view part : parts) append_json_escaped(out_, part);
  out_.push_back('"');
}

void JsonWriter::number(std::string_view k, uint64_t value) {
  key(k);
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  out_.append(buf, result.ptr);
}

void JsonWriter::number_fixed(std::string_view k, double value, int decimals) {
  if (!std::isfinite(value)) return;
  key(k);
  char buf[352];  // DBL_MAX in fixed notation with 17 decimals fits
  const auto result = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed,
                                    std::clamp(decimals, 0, 17));
  std::string_view text(buf, static_cast<size_t>(result.ptr - buf));
  if (text.find('.') != std::string_view::npos) {
    text.remove_suffix(text.size() - 1 - text.find_last_not_of('0'));
    if (text.back() == '.') text.remove_suffix(1);
  }
  out_.append(text == "-0" ? "0" : text);
}

void JsonWriter::boolean(std::string_view k, bool value) {
  key(k);
  out_ += value ? "true" : "false";
}

void JsonWriter::element(std::string_view value) {
  next_member();
  append_json_string(out_, value);
}

}  // namespace llmtap::sink
