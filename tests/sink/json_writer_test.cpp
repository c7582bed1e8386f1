#include "sink/json_writer.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>
#include <vector>

#include "sink/json_text.h"

namespace llmtap::sink {
namespace {

TEST(JsonWriter, PlacesCommasAndSkipsAbsentValues) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.string_if("absent", "");
  w.number("n", 18446744073709551615ULL);
  w.begin_object("empty");
  w.end_object();
  w.begin_object("o");
  w.string_if("absent", "");
  w.boolean("b", false);
  w.string_parts("s", {"a\"", "", "\x01"});
  w.end_object();
  w.begin_array("a");
  w.element("x");
  w.element("y");
  w.end_array();
  w.end_object();
  w.finish();
  EXPECT_EQ(
      out,
      R"({"n":18446744073709551615,"empty":{},"o":{"b":false,"s":"a\"\u0001"},"a":["x","y"]})");
}

// Keys of every length (each way of copying a key), many of them (the buffer grows under
// them): every byte where it belongs.
TEST(JsonWriter, KeysOfEveryLengthAreWrittenWhole) {
  std::string out;
  std::string expected = "{";
  {
    JsonWriter w(out);
    w.begin_object();
    for (int round = 0; round < 60; ++round) {
      for (size_t n = 0; n <= 40; ++n) {
        std::string key;
        for (size_t i = 0; i < n; ++i) key += static_cast<char>('a' + (i + n + round) % 26);
        w.number(key, n);
        if (expected.size() > 1) expected += ',';
        expected += "\"" + key + "\":" + std::to_string(n);
      }
    }
    w.end_object();
  }
  expected += "}";
  EXPECT_EQ(out, expected);
}

TEST(JsonWriter, WritesFixedPointNumbers) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.number_fixed("cost", 0.0123456789, 6);
  w.number_fixed("round_up", 0.00000051, 6);
  w.number_fixed("negative_zero", -0.0000001, 6);
  w.number_fixed("whole", 3.0, 6);
  w.number_fixed("zero", 0.0, 6);
  w.number_fixed("tiny", 1e-9, 6);
  w.number_fixed("negative", -2.5, 2);
  w.number_fixed("large", 123456789.126, 2);
  w.number_fixed("no_decimals", 2.6, 0);
  w.number_fixed("nan", std::numeric_limits<double>::quiet_NaN(), 6);
  w.number_fixed("inf", std::numeric_limits<double>::infinity(), 6);
  w.end_object();
  w.finish();
  EXPECT_EQ(out,
            R"({"cost":0.012346,"round_up":0.000001,"negative_zero":0,"whole":3,"zero":0,"tiny":0,)"
            R"("negative":-2.5,"large":123456789.13,"no_decimals":3})");
}

TEST(JsonWriter, StringsAreEscapedAsJsonTextEscapesThem) {
  std::mt19937 rng(9);
  for (int round = 0; round < 3000; ++round) {
    std::string value(rng() % 300, '\0');
    // Any bytes; printable text with 1 in 8 any byte; long runs of printable text with 1 in
    // 64 a quote, a backslash, a control byte, DEL or a UTF-8 sequence (whole or cut).
    const std::vector<std::string> rare = {"\"", "\\", "\n", "\x01", "\x7f", "\xc3\xa9",
                                           "\xe2\x82\xac", "\xe2\x82", "\xf0\x9f\x98\x80", "\xff"};
    for (size_t i = 0; i < value.size(); ++i) {
      const unsigned r = rng();
      if (round % 3 == 2 && r % 64 == 0) {
        const std::string& s = rare[(r >> 6) % rare.size()];
        value.replace(i, std::min(s.size(), value.size() - i), s.substr(0, value.size() - i));
        i += s.size() - 1;
        continue;
      }
      value[i] = static_cast<char>(round % 3 == 0   ? r & 0xFF
                                   : round % 3 == 1 ? (r % 8 == 0 ? r & 0xFF : 0x20 + r % 95)
                                                    : 0x20 + r % 95);
      if (round % 3 == 2 && (value[i] == '"' || value[i] == '\\')) value[i] = 'q';
    }
    std::string out = "before ";
    {
      JsonWriter w(out);
      w.begin_object();
      w.string("k", value);
      w.string_parts("p", {value, "-", value});
      w.begin_array("a");
      w.element(value);
      w.end_array();
      w.end_object();
    }  // the destructor appends
    std::string expected = "before {\"k\":";
    append_json_string(expected, value);
    expected += ",\"p\":\"";
    append_json_escaped(expected, value);
    expected += "-";
    append_json_escaped(expected, value);
    expected += "\",\"a\":[";
    append_json_string(expected, value);
    expected += "]}";
    ASSERT_EQ(out, expected) << round;
  }
}

// Every length up to 48 (the whole-word paths for short strings, the 16-byte steps and the
// last-16-bytes step of long ones), plain, and with each kind of byte that is not plain at
// every position: the same text as append_json_string.
TEST(JsonWriter, EveryLengthAndEveryPositionOfAnEscapeComesOutRight) {
  const std::vector<std::string> specials = {"\"", "\\", "\n", "\x01", "\x7f", "\xc3\xa9", "\xff"};
  auto check = [](const std::string& value) {
    std::string out;
    {
      JsonWriter w(out);
      w.begin_object();
      w.string("k", value);
      w.end_object();
    }
    std::string expected = "{\"k\":";
    append_json_string(expected, value);
    expected += "}";
    ASSERT_EQ(out, expected) << "value of " << value.size() << " bytes";
  };
  for (size_t n = 0; n <= 48; ++n) {
    std::string plain(n, ' ');
    for (size_t i = 0; i < n; ++i) plain[i] = static_cast<char>('a' + (i * 7) % 26);
    check(plain);
    for (const std::string& special : specials) {
      for (size_t at = 0; at + special.size() <= n; ++at) {
        std::string value = plain;
        value.replace(at, special.size(), special);
        check(value);
        // And a second one at the end: an escape before the last bytes.
        if (at + special.size() < n) {
          value[n - 1] = '"';
          check(value);
        }
      }
    }
  }
}

TEST(JsonWriter, NothingShowsUntilFinishAndAWriterInsideAWriterWorks) {
  std::string outer_text = "x";
  std::string inner_text;
  JsonWriter outer(outer_text);
  outer.begin_object();
  outer.number("n", 1);
  EXPECT_EQ(outer_text, "x");  // buffered
  {
    JsonWriter inner(inner_text);  // the thread's buffer is taken: it gets its own
    inner.begin_object();
    inner.string("s", std::string(100000, 'a'));  // grows past the first buffer
    inner.end_object();
  }
  outer.string("t", "y");
  outer.end_object();
  outer.finish();
  EXPECT_EQ(outer_text, R"(x{"n":1,"t":"y"})");
  EXPECT_EQ(inner_text, "{\"s\":\"" + std::string(100000, 'a') + "\"}");
  outer.finish();  // nothing more to add
  EXPECT_EQ(outer_text, R"(x{"n":1,"t":"y"})");
}

}  // namespace
}  // namespace llmtap::sink
