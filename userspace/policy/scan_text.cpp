#include "policy/scan_text.h"

#include "common/wire_text.h"

namespace llmtap::policy {
namespace {

// Four hex digits at `at`, or -1.
long hex4(std::string_view s, size_t at) {
  if (at + 4 > s.size()) return -1;
  long v = 0;
  for (size_t i = 0; i < 4; ++i) {
    const int h = common::hex_digit_value(s[at + i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

void append_utf8(unsigned long cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

void json_unescaped(std::string_view body, std::string& out) {
  out.clear();
  out.reserve(body.size());
  size_t i = 0;
  while (i < body.size()) {
    const size_t slash = body.find('\\', i);
    if (slash == std::string_view::npos || slash + 1 >= body.size()) {
      out.append(body.substr(i));
      return;
    }
    out.append(body.substr(i, slash - i));
    const char e = body[slash + 1];
    i = slash + 2;
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'u': {
        const long hi = hex4(body, i);
        if (hi < 0) {
          out.append("\\u");
          break;
        }
        // 6 bytes of escape make at most 4 bytes of UTF-8 (12 -> 4 for a pair): never longer.
        if (hi >= 0xD800 && hi <= 0xDBFF && i + 10 <= body.size() && body[i + 4] == '\\' &&
            body[i + 5] == 'u') {
          const long lo = hex4(body, i + 6);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            append_utf8(0x10000 + ((static_cast<unsigned long>(hi) - 0xD800) << 10) +
                            (static_cast<unsigned long>(lo) - 0xDC00),
                        out);
            i += 10;
            break;
          }
        }
        if (hi >= 0xD800 && hi <= 0xDFFF) {
          out.append(body.substr(i - 2, 6));  // a lone surrogate stays as written
        } else {
          append_utf8(static_cast<unsigned long>(hi), out);
        }
        i += 4;
        break;
      }
      default:
        out += '\\';
        out += e;
        break;
    }
  }
}

}  // namespace llmtap::policy
