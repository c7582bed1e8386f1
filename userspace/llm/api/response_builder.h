#pragma once
// Collects ResponseFacts from one body or from a stream's events, with the merge rules that
// make streams come out right: later non-zero token counts replace earlier ones (Anthropic
// repeats input tokens in message_delta, Gemini repeats usage in every chunk), a zero never
// hides a count, the first error wins, and text is gathered only up to the limit.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "llm/api/extract.h"

namespace llmtap::llm {

inline constexpr size_t kMaxErrorMessageBytes = 512;

class ResponseBuilder {
 public:
  explicit ResponseBuilder(const ExtractOptions& options) : options_(options) {}

  void set_model(std::string_view model);
  void set_response_id(std::string_view id);
  void set_finish_reason(std::string_view reason);
  void set_error(std::string_view type, std::string_view message);
  bool has_error() const { return !facts_.error_type.empty() || !facts_.error_message.empty(); }
  void add_tokens(const TokenUsage& seen);
  void add_text(std::string_view text);  // no-op unless capture_text
  void mark_stream_end() { facts_.saw_stream_end = true; }

  ResponseFacts& facts() { return facts_; }
  // Fills the derived total and the cut completion text.
  ResponseFacts finish();

 private:
  ExtractOptions options_;
  ResponseFacts facts_;
  std::string text_;
  bool has_text_ = false;
};

}  // namespace llmtap::llm
