#include "http/http1_exchange_assembler.h"

#include <cstddef>
#include <utility>

#include "http/exchange_builder.h"

namespace llmtap::http {
namespace {

Http1StreamParser::Limits framer_limits(const HttpConnectionOptions& options) {
  Http1StreamParser::Limits limits;
  limits.max_body_kept = options.max_body_kept;
  return limits;
}

// 1xx other than 101 precede the real response and answer nothing by themselves.
bool is_interim(const HttpMessage& response) {
  return response.status >= 100 && response.status < 200 && response.status != 101;
}

}  // namespace

// Hands one direction's messages to the assembler the moment the framer completes them.
class Http1ExchangeAssembler::Feed final : public Http1MessageSink {
 public:
  Feed(Http1ExchangeAssembler& assembler, bool request_side, std::vector<HttpExchange>& out,
       HttpConnectionStats& stats)
      : assembler_(assembler), request_side_(request_side), out_(out), stats_(stats) {}

  void on_message(HttpMessage&& message) override {
    assembler_.on_framed(request_side_, std::move(message), out_, stats_);
  }

 private:
  Http1ExchangeAssembler& assembler_;
  bool request_side_;
  std::vector<HttpExchange>& out_;
  HttpConnectionStats& stats_;
};

Http1ExchangeAssembler::Http1ExchangeAssembler(HttpConnectionOptions options)
    : options_(std::move(options)),
      requests_(Http1StreamParser::Role::kRequest, framer_limits(options_)),
      responses_(Http1StreamParser::Role::kResponse, framer_limits(options_)) {
  requests_.set_request_head_filter(
      [this](HttpMessage& head) { return on_request_head(head); });
}

std::string_view Http1ExchangeAssembler::error() const {
  return !requests_.error().empty() ? requests_.error() : responses_.error();
}

bool Http1ExchangeAssembler::on_request_head(HttpMessage& head) {
  const bool keep = !options_.request_filter || options_.request_filter(head);
  if (!keep) ++filtered_;
  // The response framer evicts its oldest expected method at the same bound, so both stay
  // in step.
  if (slots_.size() >= Http1StreamParser::kMaxPendingMethods) {
    slots_.erase(slots_.begin());
    ++evicted_;
  }
  Slot slot;
  slot.keep = keep;
  slots_.push_back(std::move(slot));
  responses_.expect_response_to(head.method, keep);
  return keep;
}

void Http1ExchangeAssembler::on_request_bytes(std::string_view bytes, uint64_t mono_ns,
                                              std::vector<HttpExchange>& out,
                                              HttpConnectionStats& stats) {
  if (stopped_ || requests_.in_tunnel()) {
    stats.ignored_bytes += bytes.size();
    return;
  }
  Feed feed(*this, true, out, stats);
  requests_.feed(bytes, mono_ns, feed);
  emit_ready(out, stats);  // the counters of a head whose message has not ended
  check_state(stats);
}

bool Http1ExchangeAssembler::on_gap(bool request_side, uint64_t missing, uint64_t mono_ns,
                                    std::vector<HttpExchange>& out, HttpConnectionStats& stats) {
  if (stopped_) return false;
  Http1StreamParser& framer = request_side ? requests_ : responses_;
  if (framer.in_tunnel()) return true;
  Feed feed(*this, request_side, out, stats);
  return framer.skip_body(missing, mono_ns, feed);
}

void Http1ExchangeAssembler::on_response_bytes(std::string_view bytes, uint64_t mono_ns,
                                               std::vector<HttpExchange>& out,
                                               HttpConnectionStats& stats) {
  if (stopped_ || responses_.in_tunnel()) {
    stats.ignored_bytes += bytes.size();
    return;
  }
  const uint64_t ignored_before = responses_.ignored_bytes();
  Feed feed(*this, false, out, stats);
  responses_.feed(bytes, mono_ns, feed);
  // 101 or 2xx to CONNECT: both directions stop speaking HTTP.
  if (responses_.in_tunnel()) {
    requests_.enter_tunnel();
    stats.ignored_bytes += responses_.ignored_bytes() - ignored_before;
  }
  emit_ready(out, stats);
  check_state(stats);
}

void Http1ExchangeAssembler::on_close(std::vector<HttpExchange>& out, HttpConnectionStats& stats) {
  if (!stopped_) {
    Http1StreamParser::Finished response = responses_.finish_keeping_partial();
    if (response.message) add_response(std::move(*response.message), !response.complete, stats);
    Http1StreamParser::Finished request = requests_.finish_keeping_partial();
    if (request.message) add_request(std::move(*request.message), true);
  }
  emit_ready(out, stats);
  for (Slot& slot : slots_) {
    if (slot.request) emit(slot, out, stats);  // unanswered, or answered in part
  }
  slots_.clear();
}

void Http1ExchangeAssembler::on_framed(bool request_side, HttpMessage&& message,
                                       std::vector<HttpExchange>& out, HttpConnectionStats& stats) {
  if (request_side) {
    add_request(std::move(message), false);
  } else {
    add_response(std::move(message), false, stats);
  }
  emit_ready(out, stats);
}

void Http1ExchangeAssembler::add_request(HttpMessage&& request, bool cut) {
  // Pipelined requests wait for their responses with their bodies: bounded per connection.
  size_t waiting = 0;
  for (const Slot& slot : slots_) {
    if (slot.request) waiting += slot.request->body.size();
  }
  if (waiting + request.body.size() > options_.max_connection_body_kept) {
    request.body = std::string();
    request.body_truncated = true;
    ++over_budget_;
  }
  for (Slot& slot : slots_) {
    if (!slot.request) {
      slot.request = std::move(request);
      slot.request_cut = cut;
      return;
    }
  }
  // The slot was evicted: nobody waits for this request any more.
}

void Http1ExchangeAssembler::add_response(HttpMessage&& response, bool cut,
                                          HttpConnectionStats& stats) {
  if (is_interim(response)) return;
  for (Slot& slot : slots_) {
    if (!slot.response) {
      slot.response = std::move(response);
      slot.response_cut = cut;
      return;
    }
  }
  ++stats.orphan_responses;
}

void Http1ExchangeAssembler::emit_ready(std::vector<HttpExchange>& out,
                                        HttpConnectionStats& stats) {
  stats.filtered_requests += std::exchange(filtered_, 0);
  stats.evicted_requests += std::exchange(evicted_, 0);
  stats.bodies_over_budget += std::exchange(over_budget_, 0);
  size_t ready = 0;
  while (ready < slots_.size() && slots_[ready].request && slots_[ready].response) {
    emit(slots_[ready], out, stats);
    ++ready;
  }
  slots_.erase(slots_.begin(), slots_.begin() + static_cast<ptrdiff_t>(ready));
}

void Http1ExchangeAssembler::emit(Slot& slot, std::vector<HttpExchange>& out,
                                  HttpConnectionStats& stats) {
  if (!slot.keep) return;  // counted as filtered at its head
  const bool cut = slot.request_cut || slot.response_cut;
  out.push_back(build_exchange(HttpVersion::kHttp1, std::move(*slot.request),
                               std::move(slot.response), cut, options_.max_decoded_body, stats));
}

void Http1ExchangeAssembler::check_state(HttpConnectionStats& stats) {
  using State = Http1StreamParser::State;
  if (requests_.state() != State::kError && responses_.state() != State::kError) return;
  stopped_ = true;
  ++stats.parse_errors;
  stats.ignored_bytes += requests_.ignored_bytes() + responses_.ignored_bytes();
  // Messages in progress are dropped; whole requests still waiting are emitted at close.
  std::erase_if(slots_, [](const Slot& slot) { return !slot.request; });
}

}  // namespace llmtap::http
