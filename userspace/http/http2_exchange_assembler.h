#pragma once
// HTTP/2 exchanges of one connection: a stream parser per direction, responses paired with
// requests by stream id, SETTINGS header table sizes passed to the other direction's HPACK
// decoder, resets and the close ending streams early. Tracked streams are bounded; the
// oldest is evicted (counted). An error in either direction stops the connection.

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "http/http2_stream_parser.h"
#include "http/http_connection_options.h"
#include "http/http_exchange.h"

namespace llmtap::http {

class Http2ExchangeAssembler {
 public:
  explicit Http2ExchangeAssembler(HttpConnectionOptions options);
  // The stream parsers' filters point at it, so it is neither copied nor moved.
  Http2ExchangeAssembler(const Http2ExchangeAssembler&) = delete;
  Http2ExchangeAssembler& operator=(const Http2ExchangeAssembler&) = delete;

  void on_client_bytes(std::string_view bytes, uint64_t mono_ns, std::vector<HttpExchange>& out,
                       HttpConnectionStats& stats);
  void on_server_bytes(std::string_view bytes, uint64_t mono_ns, std::vector<HttpExchange>& out,
                       HttpConnectionStats& stats);
  void on_close(std::vector<HttpExchange>& out, HttpConnectionStats& stats);

  bool stopped() const { return stopped_; }
  std::string_view error() const;
  size_t open_streams() const { return slots_.size(); }

  static constexpr size_t kMaxStreams = 1024;

 private:
  struct Slot {
    bool keep = true;
    std::optional<HttpMessage> request;   // ended with END_STREAM
    std::optional<HttpMessage> response;  // ended with END_STREAM
  };

  class Feed;

  bool on_request_head(HttpMessage& head);
  // One direction's output, applied as the stream parser reads it (through a Feed), so that
  // the slots the head filters see depend only on the bytes before them.
  void on_request(HttpMessage request, std::vector<HttpExchange>& out, HttpConnectionStats& stats);
  void on_response(HttpMessage response, std::vector<HttpExchange>& out,
                   HttpConnectionStats& stats);
  void on_reset(bool by_client, Http2StreamReset reset, std::vector<HttpExchange>& out,
                HttpConnectionStats& stats);
  // Counters kept while feeding, into the caller's stats.
  void transfer_counts(HttpConnectionStats& stats);
  // Ends a stream early (reset, or the close): whichever side did not end is taken from its
  // partial message. A reset marks the exchange incomplete even with nothing partial.
  void end_early(uint32_t stream_id, bool reset, std::optional<HttpMessage> partial_request,
                 std::optional<HttpMessage> partial_response, std::vector<HttpExchange>& out,
                 HttpConnectionStats& stats);
  void emit(Slot& slot, bool cut, std::vector<HttpExchange>& out, HttpConnectionStats& stats);
  void check_state(HttpConnectionStats& stats);

  HttpConnectionOptions options_;
  Http2StreamParser client_;
  Http2StreamParser server_;
  std::map<uint32_t, Slot> slots_;  // by stream id: the first is the oldest
  uint64_t filtered_ = 0;           // since the last transfer into the caller's stats
  uint64_t evicted_ = 0;
  bool stopped_ = false;
};

}  // namespace llmtap::http
