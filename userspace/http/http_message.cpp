#include "http/http_message.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace llmtap::http {
namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Eight bytes lowered at once: 0x20 added to each byte from 'A' to 'Z', no other byte changed.
// Each byte's low seven bits plus a constant below 0x80 cannot carry into the next byte.
uint64_t ascii_lower8(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  const uint64_t low7 = w & ~kHigh;
  const uint64_t at_least_a = low7 + (0x80 - 'A') * kOnes;   // high bit: >= 'A'
  const uint64_t above_z = low7 + (0x80 - 'Z' - 1) * kOnes;  // high bit: > 'Z'
  const uint64_t upper = at_least_a & ~above_z & ~w & kHigh;  // and the byte itself < 0x80
  return w | (upper >> 2);                                    // 0x80 >> 2 == 0x20
}

}  // namespace

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    uint64_t x;
    uint64_t y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y && ascii_lower8(x) != ascii_lower8(y)) return false;
  }
  for (; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

HeaderFields::HeaderFields(std::initializer_list<HttpHeader> fields) {
  for (const HttpHeader& f : fields) add(f.name, f.value);
}

HeaderFields::HeaderFields(const HeaderFields& other) : text_(other.text_), fields_(other.fields_) {
  repoint(other.text_.data());
}

HeaderFields::HeaderFields(HeaderFields&& other) noexcept { *this = std::move(other); }

HeaderFields& HeaderFields::operator=(const HeaderFields& other) {
  if (this != &other) {
    text_ = other.text_;
    fields_ = other.fields_;
    repoint(other.text_.data());
  }
  return *this;
}

HeaderFields& HeaderFields::operator=(HeaderFields&& other) noexcept {
  if (this != &other) {
    const char* old_base = other.text_.data();
    text_ = std::move(other.text_);
    fields_ = std::move(other.fields_);
    repoint(old_base);
    other.clear();
  }
  return *this;
}

void HeaderFields::repoint(const char* old_base) {
  const char* base = text_.data();
  if (base == old_base) return;
  for (HttpHeader& f : fields_) {
    f.name = {base + (f.name.data() - old_base), f.name.size()};
    f.value = {base + (f.value.data() - old_base), f.value.size()};
  }
}

void HeaderFields::add(std::string_view name, std::string_view value) {
  const size_t need = text_.size() + name.size() + value.size();
  if (need > text_.capacity()) {
    // Room for a typical header section at once, then doubling: a few growths per message.
    const char* old_base = text_.data();
    text_.reserve(std::max({need, 2 * text_.capacity(), size_t{512}}));
    repoint(old_base);
  }
  if (fields_.empty()) fields_.reserve(16);
  const size_t at = text_.size();
  text_.append(name).append(value);
  const char* base = text_.data();
  fields_.push_back({{base + at, name.size()}, {base + at + name.size(), value.size()}});
}

void HeaderFields::clear() {
  text_.clear();
  fields_.clear();
}

std::optional<std::string_view> find_header(const HeaderFields& headers,
                                            std::string_view name) {
  for (const HttpHeader& h : headers) {
    if (ascii_iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

std::optional<std::string_view> header(const HttpMessage& message, std::string_view name) {
  return find_header(message.headers, name);
}

}  // namespace llmtap::http
