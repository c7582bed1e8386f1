#pragma once
// A small streaming JSON writer over a caller's std::string: it places the commas, so event
// formatters can leave out absent values without tracking which member came first. Keys are
// the formatters' own literals and are written as given; values are escaped.
//
// An event is a hundred or so members: the writer puts them into a buffer of its own (the
// thread's, reused) with plain stores, and appends the whole text to the string once, at
// finish() or when it is destroyed. Until then the string does not show what was written.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace llmtap::sink {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out);
  ~JsonWriter();  // finish()
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

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
  // A member already written as JSON text (`"key":value`, e.g. kept from an earlier event).
  void member_text(std::string_view member);

  // Appends what was written so far to the string (the writer can go on after it).
  void finish();

  struct Buffer {
    std::unique_ptr<char[]> data;
    size_t capacity = 0;
    bool busy = false;  // a writer of this thread uses it
  };

 private:
  // `"key":`, after a comma unless it is the container's first member. Keys are short
  // literals: up to 16 bytes copied as two overlapping words rather than by a memcpy call.
  void key(std::string_view key) {
    const uint64_t bit = uint64_t{1} << depth_;
    const bool comma = (has_member_ & bit) != 0;
    has_member_ |= bit;
    char* p = room(key.size() + 4);
    *p = ',';
    p += comma ? 1 : 0;
    *p++ = '"';
    copy_short(p, key);
    p += key.size();
    *p++ = '"';
    *p++ = ':';
    pos_ = p;
  }
  static void copy_short(char* to, std::string_view s) {
    const size_t n = s.size();
    if (n >= 8 && n <= 16) {
      uint64_t head, tail;
      std::memcpy(&head, s.data(), 8);
      std::memcpy(&tail, s.data() + n - 8, 8);
      std::memcpy(to, &head, 8);
      std::memcpy(to + n - 8, &tail, 8);
    } else if (n >= 4 && n < 8) {
      uint32_t head, tail;
      std::memcpy(&head, s.data(), 4);
      std::memcpy(&tail, s.data() + n - 4, 4);
      std::memcpy(to, &head, 4);
      std::memcpy(to + n - 4, &tail, 4);
    } else if (n < 4) {
      for (size_t i = 0; i < n; ++i) to[i] = s[i];
    } else {
      std::memcpy(to, s.data(), n);
    }
  }
  void open(char bracket);
  void close(char bracket);
  void escaped(std::string_view text);  // JSON-escaped, without quotes

  // Room for `n` more bytes at pos_.
  char* room(size_t n) {
    if (static_cast<size_t>(limit_ - pos_) < n) grow(n);
    return pos_;
  }
  void put(char c) {
    *room(1) = c;
    ++pos_;
  }
  void put(std::string_view s) {
    std::memcpy(room(s.size()), s.data(), s.size());
    pos_ += s.size();
  }
  void grow(size_t n);
  size_t written() const { return static_cast<size_t>(pos_ - buffer_->data.get()); }

  std::string& out_;
  Buffer own_;               // when the thread's buffer is taken (a writer inside a writer)
  Buffer* buffer_ = nullptr;
  char* pos_ = nullptr;      // the end of what was written, in buffer_
  char* limit_ = nullptr;    // the end of buffer_'s capacity
  uint64_t has_member_ = 0;  // bit d: the container at depth d already has a member
  unsigned depth_ = 0;
};

// The members `write(JsonWriter&)` writes into an object, as JSON text without the braces
// around them: text for member_text, written once and copied into many events.
template <typename Write>
std::string rendered_members(Write&& write) {
  std::string object;
  {
    JsonWriter w(object);
    w.begin_object();
    write(w);
    w.end_object();
  }
  return object.substr(1, object.size() - 2);
}

}  // namespace llmtap::sink
