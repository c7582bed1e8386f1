#pragma once
// Builds HTTP/2 byte streams by hand for tests: frames with any flags, padding or stream id,
// and header blocks from nghttp2's HPACK deflater (one per direction, like a real peer).

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct nghttp2_hd_deflater;

namespace llmtap::http::test {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string h2_frame(uint8_t type, uint8_t flags, uint32_t stream_id, std::string_view payload);

// DATA, optionally padded with `padding` zero bytes (then the PADDED flag is set).
std::string h2_data(uint32_t stream_id, std::string_view data, bool end_stream, int padding = -1);
std::string h2_settings(std::vector<std::pair<uint16_t, uint32_t>> settings = {});
std::string h2_settings_ack();
std::string h2_rst_stream(uint32_t stream_id, uint32_t error_code);
std::string h2_ping();
std::string h2_window_update(uint32_t stream_id, uint32_t increment);
std::string h2_goaway(uint32_t last_stream_id, uint32_t error_code);

class HpackEncoder {
 public:
  explicit HpackEncoder(size_t table_size = 4096);
  ~HpackEncoder();
  HpackEncoder(const HpackEncoder&) = delete;
  HpackEncoder& operator=(const HpackEncoder&) = delete;

  std::string encode(const Fields& fields);
  // The peer allowed a new table size: the next block starts with a table size update.
  void change_table_size(size_t size);

 private:
  nghttp2_hd_deflater* deflater_ = nullptr;
};

// HEADERS with the whole block, or split into HEADERS + CONTINUATION frames of `fragment`
// bytes; optional padding and priority on the HEADERS frame.
std::string h2_headers(HpackEncoder& encoder, uint32_t stream_id, const Fields& fields,
                       bool end_stream, size_t fragment = 0, int padding = -1,
                       bool priority = false);
std::string h2_push_promise(HpackEncoder& encoder, uint32_t stream_id, uint32_t promised_id,
                            const Fields& fields);

std::string h2_preface();

// Concatenates in order. Use it rather than a + chain when several parts encode headers with
// one HpackEncoder: the operands of + are evaluated in no set order, the table's state is.
std::string join(std::initializer_list<std::string> parts);

}  // namespace llmtap::http::test
