#include "http2_frame_builder.h"

#include <nghttp2/nghttp2.h>

#include <stdexcept>

#include "http/http2_frame_reader.h"

namespace llmtap::http::test {
namespace {

void put_u32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

std::string padded(std::string_view payload, int padding) {
  if (padding < 0) return std::string(payload);
  std::string out(1, static_cast<char>(padding));
  out.append(payload);
  out.append(static_cast<size_t>(padding), '\0');
  return out;
}

}  // namespace

std::string h2_frame(uint8_t type, uint8_t flags, uint32_t stream_id, std::string_view payload) {
  std::string out;
  const auto length = static_cast<uint32_t>(payload.size());
  out.push_back(static_cast<char>(length >> 16));
  out.push_back(static_cast<char>(length >> 8));
  out.push_back(static_cast<char>(length));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  put_u32(out, stream_id);
  out.append(payload);
  return out;
}

std::string h2_data(uint32_t stream_id, std::string_view data, bool end_stream, int padding) {
  uint8_t flags = end_stream ? h2::kEndStream : 0;
  if (padding >= 0) flags |= h2::kPadded;
  return h2_frame(h2::kData, flags, stream_id, padded(data, padding));
}

std::string h2_settings(std::vector<std::pair<uint16_t, uint32_t>> settings) {
  std::string payload;
  for (auto [id, value] : settings) {
    payload.push_back(static_cast<char>(id >> 8));
    payload.push_back(static_cast<char>(id));
    put_u32(payload, value);
  }
  return h2_frame(h2::kSettings, 0, 0, payload);
}

std::string h2_settings_ack() { return h2_frame(h2::kSettings, h2::kAck, 0, ""); }

std::string h2_rst_stream(uint32_t stream_id, uint32_t error_code) {
  std::string payload;
  put_u32(payload, error_code);
  return h2_frame(h2::kRstStream, 0, stream_id, payload);
}

std::string h2_ping() { return h2_frame(h2::kPing, 0, 0, std::string(8, 'p')); }

std::string h2_window_update(uint32_t stream_id, uint32_t increment) {
  std::string payload;
  put_u32(payload, increment);
  return h2_frame(h2::kWindowUpdate, 0, stream_id, payload);
}

std::string h2_goaway(uint32_t last_stream_id, uint32_t error_code) {
  std::string payload;
  put_u32(payload, last_stream_id);
  put_u32(payload, error_code);
  payload += "debug data";
  return h2_frame(h2::kGoaway, 0, 0, payload);
}

HpackEncoder::HpackEncoder(size_t table_size) {
  if (nghttp2_hd_deflate_new(&deflater_, table_size) != 0) throw std::runtime_error("deflater");
}

HpackEncoder::~HpackEncoder() { nghttp2_hd_deflate_del(deflater_); }

std::string HpackEncoder::encode(const Fields& fields) {
  std::vector<nghttp2_nv> nva;
  for (const auto& [name, value] : fields) {
    nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                   reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                   value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  std::string out(nghttp2_hd_deflate_bound(deflater_, nva.data(), nva.size()), '\0');
  const ssize_t n = nghttp2_hd_deflate_hd(deflater_, reinterpret_cast<uint8_t*>(out.data()),
                                          out.size(), nva.data(), nva.size());
  if (n < 0) throw std::runtime_error("deflate");
  out.resize(static_cast<size_t>(n));
  return out;
}

void HpackEncoder::change_table_size(size_t size) {
  nghttp2_hd_deflate_change_table_size(deflater_, size);
}

std::string h2_headers(HpackEncoder& encoder, uint32_t stream_id, const Fields& fields,
                       bool end_stream, size_t fragment, int padding, bool priority) {
  const std::string block = encoder.encode(fields);
  const size_t first = fragment == 0 ? block.size() : std::min(fragment, block.size());
  uint8_t flags = end_stream ? h2::kEndStream : 0;
  if (first == block.size()) flags |= h2::kEndHeaders;
  std::string payload;
  if (priority) {
    flags |= h2::kPriorityFlag;
    payload.append("\0\0\0\0\x10", 5);
  }
  payload.append(block, 0, first);
  if (padding >= 0) flags |= h2::kPadded;
  std::string out = h2_frame(h2::kHeaders, flags, stream_id, padded(payload, padding));
  for (size_t at = first; at < block.size(); at += fragment) {
    const std::string piece = block.substr(at, fragment);
    const bool last = at + fragment >= block.size();
    out += h2_frame(h2::kContinuation, last ? h2::kEndHeaders : 0, stream_id, piece);
  }
  return out;
}

std::string h2_push_promise(HpackEncoder& encoder, uint32_t stream_id, uint32_t promised_id,
                            const Fields& fields) {
  std::string payload;
  put_u32(payload, promised_id);
  payload += encoder.encode(fields);
  return h2_frame(h2::kPushPromise, h2::kEndHeaders, stream_id, payload);
}

std::string h2_preface() { return std::string(h2::kPreface); }

std::string join(std::initializer_list<std::string> parts) {
  std::string out;
  for (const std::string& part : parts) out += part;
  return out;
}

}  // namespace llmtap::http::test
