#include "llm/api/response_builder.h"

#include "llm/api/utf8_text.h"

namespace llmtap::llm {
namespace {

void merge_count(std::optional<uint64_t>& field, std::optional<uint64_t> seen) {
  if (seen && (!field || *seen != 0)) field = seen;
}

}  // namespace

void ResponseBuilder::set_model(std::string_view model) {
  if (!model.empty()) facts_.model = model;
}

void ResponseBuilder::set_response_id(std::string_view id) {
  if (!id.empty() && facts_.response_id.empty()) facts_.response_id = id;
}

void ResponseBuilder::set_finish_reason(std::string_view reason) {
  if (!reason.empty()) facts_.finish_reason = reason;
}

void ResponseBuilder::set_error(std::string_view type, std::string_view message) {
  if (has_error()) return;
  // Types can come from headers, which nothing has validated.
  facts_.error_type = to_valid_utf8(cut_utf8(type, kMaxErrorMessageBytes));
  const std::string valid = to_valid_utf8(message);
  facts_.error_message = cut_utf8(valid, kMaxErrorMessageBytes);
}

void ResponseBuilder::add_tokens(const TokenUsage& seen) {
  TokenUsage& t = facts_.tokens;
  merge_count(t.input, seen.input);
  merge_count(t.output, seen.output);
  merge_count(t.total, seen.total);
  merge_count(t.cached, seen.cached);
  merge_count(t.cache_creation, seen.cache_creation);
  merge_count(t.reasoning, seen.reasoning);
}

void ResponseBuilder::add_text(std::string_view text) {
  if (!options_.capture_text || text.empty()) return;  // absent fields come as empty
  has_text_ = true;
  // Keep a few bytes past the limit so the final cut can find a character boundary.
  const size_t keep = options_.max_text_bytes + 4;
  if (text_.size() < keep) text_.append(text.substr(0, keep - text_.size()));
}

ResponseFacts ResponseBuilder::finish() {
  TokenUsage& t = facts_.tokens;
  if (!t.total && t.input && t.output) t.total = *t.input + *t.output;
  if (has_text_) {
    const std::string valid = to_valid_utf8(text_);
    facts_.completion_text = std::string(cut_utf8(valid, options_.max_text_bytes));
  }
  return std::move(facts_);
}

}  // namespace llmtap::llm
