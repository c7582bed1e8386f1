#include "http/http_connection_parser.h"

#include <algorithm>
#include <utility>

#include "http/http1_exchange_assembler.h"
#include "http/http2_exchange_assembler.h"
#include "http/protocol_sniffer.h"

namespace llmtap::http {

HttpConnectionParser::HttpConnectionParser(HttpConnectionOptions options)
    : options_(std::move(options)) {}

HttpConnectionParser::~HttpConnectionParser() = default;
HttpConnectionParser::HttpConnectionParser(HttpConnectionParser&&) noexcept = default;
HttpConnectionParser& HttpConnectionParser::operator=(HttpConnectionParser&&) noexcept = default;

bool HttpConnectionParser::stopped() const {
  return (http1_ && http1_->stopped()) || (http2_ && http2_->stopped());
}

std::string_view HttpConnectionParser::error() const {
  if (http1_) return http1_->error();
  if (http2_) return http2_->error();
  return {};
}

void HttpConnectionParser::on_data(bool is_write, std::string_view bytes, uint64_t mono_ns,
                                   std::vector<HttpExchange>& out) {
  if (bytes.empty()) return;
  if (closed_ || protocol_ == Protocol::kNotHttp) {
    stats_.ignored_bytes += bytes.size();
    return;
  }
  if (protocol_ != Protocol::kUnknown) return dispatch(is_write, bytes, mono_ns, out);
  held_.push_back({is_write, mono_ns, std::string(bytes)});
  held_bytes_ += bytes.size();
  sniff(out);
}

void HttpConnectionParser::on_close(uint64_t /*mono_ns*/, std::vector<HttpExchange>& out) {
  if (closed_) return;
  closed_ = true;
  // Times come from the bytes: a read-until-close response ends at its last bytes.
  if (http1_) http1_->on_close(out, stats_);
  if (http2_) http2_->on_close(out, stats_);
  if (protocol_ == Protocol::kUnknown) {
    stats_.ignored_bytes += held_bytes_;
    held_.clear();
    held_bytes_ = 0;
  }
}

std::string HttpConnectionParser::first_bytes(bool is_write) const {
  std::string head;
  for (const HeldChunk& chunk : held_) {
    if (chunk.is_write != is_write) continue;
    head.append(chunk.bytes, 0, kSniffBytes - head.size());
    if (head.size() == kSniffBytes) break;
  }
  return head;
}

bool HttpConnectionParser::on_gap(bool is_write, uint64_t missing, uint64_t mono_ns,
                                  std::vector<HttpExchange>& out) {
  if (closed_) return true;
  if (protocol_ == Protocol::kNotHttp) {
    stats_.ignored_bytes += missing;
    return true;
  }
  if (!http1_) return false;
  return http1_->on_gap(is_write == requests_are_writes_, missing, mono_ns, out, stats_);
}

void HttpConnectionParser::sniff(std::vector<HttpExchange>& out) {
  bool server_spoke_first[2] = {false, false};  // by is_write
  for (const bool is_write : {true, false}) {
    const std::string head = first_bytes(is_write);
    if (head.empty()) continue;
    switch (sniff_protocol(head)) {
      case SniffedProtocol::kHttp1Request:
        return start(Protocol::kHttp1, is_write, out);
      case SniffedProtocol::kHttp1Response:
        return start(Protocol::kHttp1, !is_write, out);
      case SniffedProtocol::kHttp2Preface:
        return start(Protocol::kHttp2, is_write, out);
      case SniffedProtocol::kHttp2ServerStart:
        server_spoke_first[is_write] = true;  // the other direction must show the preface
        break;
      case SniffedProtocol::kNeedMore:
        break;
      case SniffedProtocol::kNotHttp:
        return start(Protocol::kNotHttp, true, out);
    }
  }
  if ((server_spoke_first[0] && server_spoke_first[1]) || held_bytes_ > kMaxUndecidedBytes) {
    start(Protocol::kNotHttp, true, out);
  }
}

void HttpConnectionParser::start(Protocol protocol, bool requests_are_writes,
                                 std::vector<HttpExchange>& out) {
  protocol_ = protocol;
  requests_are_writes_ = requests_are_writes;
  switch (protocol) {
    case Protocol::kHttp1:
      ++stats_.http1_connections;
      http1_ = std::make_unique<Http1ExchangeAssembler>(std::move(options_));
      break;
    case Protocol::kHttp2:
      ++stats_.http2_connections;
      http2_ = std::make_unique<Http2ExchangeAssembler>(std::move(options_));
      break;
    case Protocol::kNotHttp:
      ++stats_.non_http_connections;
      stats_.ignored_bytes += held_bytes_;
      break;
    case Protocol::kUnknown:
      break;
  }
  options_ = {};
  std::vector<HeldChunk> held = std::exchange(held_, {});
  held_bytes_ = 0;
  if (protocol == Protocol::kNotHttp) return;
  for (const HeldChunk& chunk : held) dispatch(chunk.is_write, chunk.bytes, chunk.mono_ns, out);
}

void HttpConnectionParser::dispatch(bool is_write, std::string_view bytes, uint64_t mono_ns,
                                    std::vector<HttpExchange>& out) {
  const bool is_request_side = is_write == requests_are_writes_;
  if (http1_) {
    if (is_request_side) {
      http1_->on_request_bytes(bytes, mono_ns, out, stats_);
    } else {
      http1_->on_response_bytes(bytes, mono_ns, out, stats_);
    }
  } else if (http2_) {
    if (is_request_side) {
      http2_->on_client_bytes(bytes, mono_ns, out, stats_);
    } else {
      http2_->on_server_bytes(bytes, mono_ns, out, stats_);
    }
  }
}

}  // namespace llmtap::http
