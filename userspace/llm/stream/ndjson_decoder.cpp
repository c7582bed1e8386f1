#include "llm/stream/ndjson_decoder.h"

#include "common/wire_text.h"

namespace llmtap::llm {
namespace {

// JSON's insignificant whitespace; a line of only this is blank.
constexpr std::string_view kJsonWhitespace = " \t\r\n";

}  // namespace

NdjsonDecoder::NdjsonDecoder(StreamLimits limits) : limits_(limits) {}

void NdjsonDecoder::feed(std::string_view bytes, std::vector<StreamEvent>& out) {
  while (!bytes.empty()) {
    const size_t end = bytes.find('\n');
    if (end == std::string_view::npos) {
      append_to_line(bytes);
      return;
    }
    append_to_line(bytes.substr(0, end));
    bytes.remove_prefix(end + 1);
    end_line(1, out);
  }
}

void NdjsonDecoder::finish(std::vector<StreamEvent>& out) {
  if (line_bytes_ > 0) end_line(0, out);
}

void NdjsonDecoder::append_to_line(std::string_view piece) {
  line_bytes_ += piece.size();
  if (dropping_) return;
  if (line_.size() + piece.size() > limits_.max_event_bytes) {
    dropping_ = true;
    line_.clear();
    return;
  }
  line_.append(piece);
}

void NdjsonDecoder::end_line(size_t terminator_bytes, std::vector<StreamEvent>& out) {
  if (dropping_) {
    ++errors_;
    error_ = "line over the size limit";
    dropped_bytes_ += line_bytes_ + terminator_bytes;
    dropping_ = false;
  } else if (const std::string_view value = common::trim(line_, kJsonWhitespace); !value.empty()) {
    out.push_back({.type = {}, .data = std::string(value)});
    ++events_;
  }
  line_.clear();
  line_bytes_ = 0;
}

}  // namespace llmtap::llm
