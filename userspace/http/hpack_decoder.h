#pragma once
// HPACK (RFC 7541) decoding of one direction's header blocks, over nghttp2's stand-alone
// inflater. The dynamic table lives across blocks, so every block of the direction must pass
// through here in order, including those whose fields nobody keeps.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "http/http_message.h"

struct nghttp2_hd_inflater;

namespace llmtap::http {

class HpackDecoder {
 public:
  HpackDecoder();
  ~HpackDecoder();
  HpackDecoder(const HpackDecoder&) = delete;
  HpackDecoder& operator=(const HpackDecoder&) = delete;

  // Decodes one complete header block. Fields go to `fields` until `max_fields` or
  // `max_field_bytes` (names plus values) would be passed; the rest are decoded (the table
  // needs them) but dropped and `dropped` is set. Returns false on a compression error,
  // after which the table is out of step and the direction cannot be decoded any more.
  bool decode(std::string_view block, size_t max_fields, size_t max_field_bytes,
              HeaderFields& fields, bool& dropped);

  // The peer's SETTINGS_HEADER_TABLE_SIZE, once acknowledged: the largest table the encoder
  // may choose through table size updates.
  bool set_max_table_size(uint32_t size);

  bool ok() const { return inflater_ != nullptr; }

 private:
  nghttp2_hd_inflater* inflater_ = nullptr;
};

}  // namespace llmtap::http
