#include "http/http2_exchange_assembler.h"

#include <map>
#include <utility>

#include "http/exchange_builder.h"

namespace llmtap::http {
namespace {

Http2StreamParser::Limits parser_limits(const HttpConnectionOptions& options) {
  Http2StreamParser::Limits limits;
  limits.max_body_kept = options.max_body_kept;
  limits.max_streams = Http2ExchangeAssembler::kMaxStreams;
  limits.max_open_body_kept = options.max_connection_body_kept;
  return limits;
}

}  // namespace

Http2ExchangeAssembler::Http2ExchangeAssembler(HttpConnectionOptions options)
    : options_(std::move(options)),
      client_(Http2StreamParser::Side::kClient, parser_limits(options_)),
      server_(Http2StreamParser::Side::kServer, parser_limits(options_)) {
  client_.set_head_filter([this](HttpMessage& head) { return on_request_head(head); });
  // A response body is kept only when its request was; pushed streams have no slot.
  server_.set_head_filter([this](const HttpMessage& head) {
    const auto it = slots_.find(head.stream_id);
    return it != slots_.end() && it->second.keep;
  });
}

std::string_view Http2ExchangeAssembler::error() const {
  return !client_.error().empty() ? client_.error() : server_.error();
}

bool Http2ExchangeAssembler::on_request_head(HttpMessage& head) {
  const bool keep = !options_.request_filter || options_.request_filter(head);
  if (!keep) ++filtered_;
  if (!slots_.contains(head.stream_id) && slots_.size() >= kMaxStreams) {
    slots_.erase(slots_.begin());
    ++evicted_;
  }
  slots_[head.stream_id].keep = keep;
  return keep;
}

// Hands one direction's output to the assembler the moment the stream parser reads it.
class Http2ExchangeAssembler::Feed final : public Http2OutputSink {
 public:
  Feed(Http2ExchangeAssembler& assembler, bool client, std::vector<HttpExchange>& out,
       HttpConnectionStats& stats)
      : assembler_(assembler), client_(client), out_(out), stats_(stats) {}

  void on_message(HttpMessage&& message) override {
    if (client_) {
      assembler_.on_request(std::move(message), out_, stats_);
    } else {
      assembler_.on_response(std::move(message), out_, stats_);
    }
  }
  void on_reset(Http2StreamReset reset) override {
    assembler_.on_reset(client_, std::move(reset), out_, stats_);
  }
  void on_settings(std::optional<uint32_t> header_table_size) override {
    (client_ ? assembler_.server_ : assembler_.client_).on_peer_settings(header_table_size);
  }

 private:
  Http2ExchangeAssembler& assembler_;
  bool client_;
  std::vector<HttpExchange>& out_;
  HttpConnectionStats& stats_;
};

void Http2ExchangeAssembler::on_client_bytes(std::string_view bytes, uint64_t mono_ns,
                                             std::vector<HttpExchange>& out,
                                             HttpConnectionStats& stats) {
  if (stopped_) {
    stats.ignored_bytes += bytes.size();
    return;
  }
  Feed feed(*this, true, out, stats);
  client_.feed(bytes, mono_ns, feed);
  transfer_counts(stats);
  check_state(stats);
}

void Http2ExchangeAssembler::on_server_bytes(std::string_view bytes, uint64_t mono_ns,
                                             std::vector<HttpExchange>& out,
                                             HttpConnectionStats& stats) {
  if (stopped_) {
    stats.ignored_bytes += bytes.size();
    return;
  }
  Feed feed(*this, false, out, stats);
  server_.feed(bytes, mono_ns, feed);
  transfer_counts(stats);
  check_state(stats);
}

void Http2ExchangeAssembler::on_request(HttpMessage request, std::vector<HttpExchange>& out,
                                        HttpConnectionStats& stats) {
  const auto it = slots_.find(request.stream_id);
  if (it == slots_.end()) return;  // evicted
  Slot& slot = it->second;
  slot.request = std::move(request);
  if (slot.response) {  // the server answered before the request ended
    emit(slot, false, out, stats);
    slots_.erase(it);
  }
}

void Http2ExchangeAssembler::on_response(HttpMessage response, std::vector<HttpExchange>& out,
                                         HttpConnectionStats& stats) {
  const auto it = slots_.find(response.stream_id);
  if (it == slots_.end()) {
    ++stats.orphan_responses;  // pushed, evicted, or begun before the capture
    return;
  }
  Slot& slot = it->second;
  slot.response = std::move(response);
  if (slot.request || !slot.keep) {
    emit(slot, false, out, stats);
    slots_.erase(it);
  }
}

void Http2ExchangeAssembler::on_reset(bool by_client, Http2StreamReset reset,
                                      std::vector<HttpExchange>& out, HttpConnectionStats& stats) {
  if (by_client) {
    end_early(reset.stream_id, true, std::move(reset.partial),
              server_.abort_stream(reset.stream_id), out, stats);
  } else {
    end_early(reset.stream_id, true, client_.abort_stream(reset.stream_id),
              std::move(reset.partial), out, stats);
  }
}

void Http2ExchangeAssembler::transfer_counts(HttpConnectionStats& stats) {
  stats.filtered_requests += std::exchange(filtered_, 0);
  stats.evicted_requests += std::exchange(evicted_, 0);
  stats.bodies_over_budget += client_.take_bodies_over_budget();
  stats.bodies_over_budget += server_.take_bodies_over_budget();
}

void Http2ExchangeAssembler::on_close(std::vector<HttpExchange>& out, HttpConnectionStats& stats) {
  if (!stopped_) {
    // Both sides' cut streams first, then one end per stream: a stream cut on both sides
    // keeps its partial response.
    std::map<uint32_t, std::pair<std::optional<HttpMessage>, std::optional<HttpMessage>>> cut;
    for (HttpMessage& request : client_.take_open_streams()) {
      const uint32_t id = request.stream_id;
      cut[id].first = std::move(request);
    }
    for (HttpMessage& response : server_.take_open_streams()) {
      const uint32_t id = response.stream_id;
      cut[id].second = std::move(response);
    }
    for (auto& [id, sides] : cut) {
      end_early(id, false, std::move(sides.first), std::move(sides.second), out, stats);
    }
  }
  for (auto& [id, slot] : slots_) {
    if (slot.request) emit(slot, false, out, stats);  // whole requests never answered
  }
  slots_.clear();
}

void Http2ExchangeAssembler::end_early(uint32_t stream_id, bool reset,
                                       std::optional<HttpMessage> partial_request,
                                       std::optional<HttpMessage> partial_response,
                                       std::vector<HttpExchange>& out, HttpConnectionStats& stats) {
  const auto it = slots_.find(stream_id);
  if (it == slots_.end()) return;
  Slot& slot = it->second;
  bool cut = reset;
  if (!slot.request && partial_request) {
    slot.request = std::move(partial_request);
    cut = true;
  }
  if (!slot.response && partial_response) {
    slot.response = std::move(partial_response);
    cut = true;
  }
  if (slot.request) emit(slot, cut, out, stats);
  slots_.erase(it);
}

void Http2ExchangeAssembler::emit(Slot& slot, bool cut, std::vector<HttpExchange>& out,
                                  HttpConnectionStats& stats) {
  if (!slot.keep || !slot.request) return;  // filtered requests were counted at their head
  out.push_back(build_exchange(HttpVersion::kHttp2, std::move(*slot.request),
                               std::move(slot.response), cut, options_.max_decoded_body, stats));
}

void Http2ExchangeAssembler::check_state(HttpConnectionStats& stats) {
  if (!client_.failed() && !server_.failed()) return;
  stopped_ = true;
  ++stats.parse_errors;
  stats.ignored_bytes += client_.ignored_bytes() + server_.ignored_bytes();
  // Streams in progress are dropped; whole requests still waiting are emitted at close.
  std::erase_if(slots_, [](const auto& entry) { return !entry.second.request; });
}

}  // namespace llmtap::http
