#pragma once
// Builds AWS event-stream messages with correct CRCs, for tests of the decoder.

#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::llm::testing {

inline void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

inline void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

inline uint32_t crc_of(std::string_view s) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

// One header: name, then type byte and encoded value.
inline std::string string_header(std::string_view name, std::string_view value) {
  std::string h(1, static_cast<char>(name.size()));
  h.append(name);
  h.push_back(7);
  put_u16(h, static_cast<uint16_t>(value.size()));
  h.append(value);
  return h;
}

inline std::string raw_header(std::string_view name, uint8_t type, std::string_view value) {
  std::string h(1, static_cast<char>(name.size()));
  h.append(name);
  h.push_back(static_cast<char>(type));
  h.append(value);
  return h;
}

inline std::string aws_message(const std::vector<std::string>& headers, std::string_view payload) {
  std::string all_headers;
  for (const std::string& h : headers) all_headers += h;
  std::string m;
  put_u32(m, static_cast<uint32_t>(12 + all_headers.size() + payload.size() + 4));
  put_u32(m, static_cast<uint32_t>(all_headers.size()));
  put_u32(m, crc_of(m));
  m += all_headers;
  m += payload;
  put_u32(m, crc_of(m));
  return m;
}

inline std::string aws_event(std::string_view event_type, std::string_view payload) {
  return aws_message(
      {string_header(":event-type", event_type), string_header(":content-type", "application/json"),
       string_header(":message-type", "event")},
      payload);
}

inline std::string aws_exception(std::string_view exception_type, std::string_view payload) {
  return aws_message({string_header(":exception-type", exception_type),
                      string_header(":content-type", "application/json"),
                      string_header(":message-type", "exception")},
                     payload);
}

}  // namespace llmtap::llm::testing
