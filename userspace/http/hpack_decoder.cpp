#include "http/hpack_decoder.h"

#include <nghttp2/nghttp2.h>

namespace llmtap::http {

HpackDecoder::HpackDecoder() {
  if (nghttp2_hd_inflate_new(&inflater_) != 0) inflater_ = nullptr;
}

HpackDecoder::~HpackDecoder() {
  if (inflater_ != nullptr) nghttp2_hd_inflate_del(inflater_);
}

bool HpackDecoder::decode(std::string_view block, size_t max_fields, size_t max_field_bytes,
                          HeaderFields& fields, bool& dropped) {
  if (inflater_ == nullptr) return false;
  const auto* in = reinterpret_cast<const uint8_t*>(block.data());
  size_t in_left = block.size();
  size_t field_bytes = 0;
  while (true) {
    nghttp2_nv nv;
    int flags = 0;
    const ssize_t used = nghttp2_hd_inflate_hd2(inflater_, &nv, &flags, in, in_left, 1);
    if (used < 0) return false;
    in += used;
    in_left -= static_cast<size_t>(used);
    if ((flags & NGHTTP2_HD_INFLATE_EMIT) != 0) {
      field_bytes += nv.namelen + nv.valuelen;
      if (fields.size() < max_fields && field_bytes <= max_field_bytes) {
        fields.add({reinterpret_cast<const char*>(nv.name), nv.namelen},
                   {reinterpret_cast<const char*>(nv.value), nv.valuelen});
      } else {
        dropped = true;
      }
    }
    if ((flags & NGHTTP2_HD_INFLATE_FINAL) != 0) {
      nghttp2_hd_inflate_end_headers(inflater_);
      return true;
    }
    // in_final is set, so the inflater only stops short of FINAL on a truncated block.
    if ((flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && in_left == 0) return false;
  }
}

bool HpackDecoder::set_max_table_size(uint32_t size) {
  return inflater_ != nullptr && nghttp2_hd_inflate_change_table_size(inflater_, size) == 0;
}

}  // namespace llmtap::http
