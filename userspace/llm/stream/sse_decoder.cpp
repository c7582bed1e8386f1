#include "llm/stream/sse_decoder.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace llmtap::llm {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// The spec's `retry:` rule: ASCII digits only, else ignored. Saturates instead of overflowing.
std::optional<uint64_t> parse_retry(std::string_view value) {
  if (value.empty()) return std::nullopt;
  uint64_t ms = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<uint64_t>(c - '0');
    ms = ms > (std::numeric_limits<uint64_t>::max() - digit) / 10
             ? std::numeric_limits<uint64_t>::max()
             : ms * 10 + digit;
  }
  return ms;
}

// The first CR or LF. memchr for LF, then CR only before it: a plain find_first_of tests
// every byte against both and is several times slower on long lines.
size_t find_line_end(std::string_view s) {
  const void* lf = std::memchr(s.data(), '\n', s.size());
  const size_t lf_at = lf == nullptr ? s.size() : static_cast<const char*>(lf) - s.data();
  const void* cr = std::memchr(s.data(), '\r', lf_at);
  if (cr != nullptr) return static_cast<const char*>(cr) - s.data();
  return lf == nullptr ? std::string_view::npos : lf_at;
}

}  // namespace

SseDecoder::SseDecoder(StreamLimits limits) : limits_(limits) {}

void SseDecoder::feed(std::string_view bytes, std::vector<StreamEvent>& out) {
  if (!bom_checked_) {
    // Hold the first bytes until they are known to be (and then skip) or not be a BOM.
    const size_t take = std::min(kBom.size() - bom_held_.size(), bytes.size());
    bom_held_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (bom_held_.size() < kBom.size() && kBom.starts_with(bom_held_)) return;
    bom_checked_ = true;
    if (bom_held_ != kBom) decode(bom_held_, out);
    bom_held_.clear();
  }
  decode(bytes, out);
}

void SseDecoder::finish(std::vector<StreamEvent>& out) {
  if (!bom_checked_) decode(bom_held_, out);  // a body shorter than a BOM
  if (line_bytes_ > 0) end_line(out);
  end_event(out);
  bom_checked_ = false;
  bom_held_.clear();
  skip_lf_ = false;
}

void SseDecoder::decode(std::string_view in, std::vector<StreamEvent>& out) {
  while (!in.empty()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (in.front() == '\n') {
        ++event_wire_bytes_;
        in.remove_prefix(1);
        continue;
      }
    }
    const size_t end = find_line_end(in);
    if (end == std::string_view::npos) {
      append_to_line(in);
      event_wire_bytes_ += in.size();
      return;
    }
    append_to_line(in.substr(0, end));
    event_wire_bytes_ += end + 1;
    skip_lf_ = in[end] == '\r';
    in.remove_prefix(end + 1);
    end_line(out);
  }
}

void SseDecoder::append_to_line(std::string_view piece) {
  if (piece.empty()) return;
  if (line_bytes_ == 0) comment_line_ = piece.front() == ':';
  line_bytes_ += piece.size();
  if (dropping_ || comment_line_) return;  // comments are never kept, so never too big
  if (type_.size() + data_.size() + line_.size() + piece.size() > limits_.max_event_bytes) {
    dropping_ = true;
    ++errors_;
    error_ = "event over the size limit";
    type_.clear();
    data_.clear();
    line_.clear();
    return;
  }
  line_.append(piece);
}

void SseDecoder::end_line(std::vector<StreamEvent>& out) {
  if (line_bytes_ == 0) {
    end_event(out);
    return;
  }
  if (!dropping_ && !comment_line_) process_field(line_);
  line_.clear();
  line_bytes_ = 0;
  comment_line_ = false;
}

void SseDecoder::process_field(std::string_view line) {
  const size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
  if (value.starts_with(' ')) value.remove_prefix(1);
  if (field == "event") {
    type_.assign(value);
  } else if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_event_id_.assign(value);
  } else if (field == "retry") {
    if (std::optional<uint64_t> ms = parse_retry(value)) retry_ms_ = ms;
  }  // other fields are ignored, as the spec says
}

void SseDecoder::end_event(std::vector<StreamEvent>& out) {
  if (dropping_) {
    dropped_bytes_ += event_wire_bytes_;
    dropping_ = false;
  } else if (!data_.empty()) {  // no `data:` line at all: not dispatched
    data_.pop_back();           // the '\n' after the last data line
    out.push_back({.type = std::move(type_), .data = std::move(data_)});
    ++events_;
  }
  type_.clear();
  data_.clear();
  event_wire_bytes_ = 0;
}

}  // namespace llmtap::llm
