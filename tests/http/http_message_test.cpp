#include "http/http_message.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace llmtap::http {
namespace {

bool reference_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Every pair of byte values, at every place of texts of lengths around one and two words (so
// both the eight-byte steps and the tail compare them), against byte-by-byte lowering.
TEST(AsciiIequals, AgreesWithLoweringByteByByteForEveryBytePairAndPlace) {
  size_t disagreements = 0;
  for (const size_t length : {1, 7, 8, 9, 16, 17, 19}) {
    for (size_t place = 0; place < length; ++place) {
      std::string a(length, 'k');
      std::string b(length, 'K');
      for (int x = 0; x < 256; ++x) {
        for (int y = 0; y < 256; ++y) {
          a[place] = static_cast<char>(x);
          b[place] = static_cast<char>(y);
          if (ascii_iequals(a, b) != reference_iequals(a, b)) ++disagreements;
        }
      }
    }
  }
  EXPECT_EQ(disagreements, 0u);
}

TEST(AsciiIequals, HeaderNames) {
  EXPECT_TRUE(ascii_iequals("Content-Length", "content-length"));
  EXPECT_TRUE(ascii_iequals("TRANSFER-ENCODING", "transfer-encoding"));
  EXPECT_FALSE(ascii_iequals("content-length", "content-lengtH2"));
  EXPECT_FALSE(ascii_iequals("content-lengtj", "content-length"));
  EXPECT_FALSE(ascii_iequals("x-api-key@", "x-api-key`"));  // '@' | 0x20 is '`': not a letter
  EXPECT_FALSE(ascii_iequals("\xC1uthorization", "\xE1uthorization"));  // above ASCII: as is
  EXPECT_TRUE(ascii_iequals("", ""));
}

// Whether any field of `a` points at a byte that one of `b`'s fields points at.
bool shares_bytes(const HeaderFields& a, const HeaderFields& b) {
  auto within = [](std::string_view v, std::string_view range) {
    return !v.empty() && !range.empty() && v.data() < range.data() + range.size() &&
           range.data() < v.data() + v.size();
  };
  for (const HttpHeader& x : a) {
    for (const HttpHeader& y : b) {
      for (const std::string_view v : {x.name, x.value}) {
        if (within(v, y.name) || within(v, y.value)) return true;
      }
    }
  }
  return false;
}

// The fields as owned strings, to compare after the list they came from is gone.
std::vector<std::pair<std::string, std::string>> owned(const HeaderFields& fields) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const HttpHeader& f : fields) out.emplace_back(f.name, f.value);
  return out;
}

HeaderFields numbered(size_t n) {
  HeaderFields fields;
  for (size_t i = 0; i < n; ++i) {
    fields.add("X-Field-" + std::to_string(i), std::string(i % 40, static_cast<char>('a' + i % 26)));
  }
  return fields;
}

// Growing the buffer moves the bytes: every field added before still reads what was added.
TEST(HeaderFields, KeepsEveryFieldAcrossTheBuffersGrowth) {
  const HeaderFields fields = numbered(300);
  ASSERT_EQ(fields.size(), 300u);
  for (size_t i = 0; i < fields.size(); ++i) {
    EXPECT_EQ(fields[i].name, "X-Field-" + std::to_string(i));
    EXPECT_EQ(fields[i].value, std::string(i % 40, static_cast<char>('a' + i % 26)));
  }
  EXPECT_EQ(find_header(fields, "x-field-299"), std::string(299 % 40, 'a' + 299 % 26));
  EXPECT_FALSE(find_header(fields, "x-field-300"));
}

// Copies and moves, of lists held in a short string's inline bytes and of long ones: the result
// reads the same fields from bytes of its own, and outlives the list it came from.
TEST(HeaderFields, CopiesAndMovesPointAtTheirOwnBytes) {
  for (const size_t n : {0u, 1u, 2u, 40u}) {
    SCOPED_TRACE(n);
    HeaderFields small;
    if (n == 1) small.add("A", "b");  // 2 bytes: inside the string object itself
    const HeaderFields source = n == 1 ? small : numbered(n);
    const auto expected = owned(source);

    auto original = std::make_unique<HeaderFields>(source);
    EXPECT_EQ(*original, source);
    EXPECT_FALSE(shares_bytes(*original, source));
    HeaderFields copied(*original);
    EXPECT_FALSE(shares_bytes(copied, *original));
    HeaderFields assigned;
    assigned.add("Old", "field");
    assigned = *original;
    EXPECT_FALSE(shares_bytes(assigned, *original));
    HeaderFields moved(std::move(*original));
    EXPECT_TRUE(original->empty());
    HeaderFields move_assigned{{"Other", "x"}};
    move_assigned = std::move(moved);
    EXPECT_TRUE(moved.empty());
    original.reset();  // the first list's bytes are gone

    for (const HeaderFields* f : {&copied, &assigned, &move_assigned}) {
      EXPECT_EQ(owned(*f), expected);
      EXPECT_EQ(*f, source);
      EXPECT_FALSE(shares_bytes(*f, source));
    }
    EXPECT_FALSE(shares_bytes(copied, assigned));
    EXPECT_FALSE(shares_bytes(copied, move_assigned));
    // Fields added to a copy go to its bytes alone.
    copied.add("Added", "later");
    EXPECT_EQ(copied.back().value, "later");
    EXPECT_EQ(owned(assigned), expected);
  }
}

// An HttpMessage (what the parsers hand on, moved and copied along the pipeline) keeps its
// fields through copies and moves.
TEST(HeaderFields, MessagesKeepTheirFieldsThroughCopiesAndMoves) {
  std::vector<HttpMessage> messages;
  for (int i = 0; i < 50; ++i) {  // the vector's growth moves every message
    HttpMessage m;
    m.headers.add("Host", "host-" + std::to_string(i) + ".example");
    m.trailers.add("T", std::to_string(i));
    messages.push_back(m);
  }
  const std::vector<HttpMessage> copies = messages;
  messages.clear();
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(header(copies[i], "host"), "host-" + std::to_string(i) + ".example");
    EXPECT_EQ(find_header(copies[i].trailers, "t"), std::to_string(i));
  }
}

}  // namespace
}  // namespace llmtap::http
