#include "sink/json_writer.h"

#include <gtest/gtest.h>

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
  EXPECT_EQ(
      out,
      R"({"n":18446744073709551615,"empty":{},"o":{"b":false,"s":"a\"\u0001"},"a":["x","y"]})");
}

}  // namespace
}  // namespace llmtap::sink
