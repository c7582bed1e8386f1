#include "llm/api/prompt_text.h"

#include <algorithm>
#include <optional>

namespace llmtap::llm {
namespace {

class TextGatherer {
 public:
  explicit TextGatherer(size_t max_bytes) : limit_(max_bytes + 4) {}
  void add(std::string_view piece) {
    if (piece.empty() || text_.size() >= limit_) return;
    if (!text_.empty()) text_ += '\n';
    text_.append(piece.substr(0, limit_ - std::min(limit_, text_.size())));
  }
  std::string take() { return std::move(text_); }

 private:
  size_t limit_;
  std::string text_;
};

// A string, or an array of strings / parts with a "text" (OpenAI, Anthropic, Converse,
// Responses input_text, Cohere).
void gather_content(JsonElement content, TextGatherer& out) {
  std::string_view text;
  if (!content.get_string().get(text)) return out.add(text);
  if (!is_array(content)) return;
  for (JsonElement part : as_array(content)) {
    if (!part.get_string().get(text) || !part["text"].get_string().get(text)) out.add(text);
  }
}

// The last element of a conversation whose role is "user" (or has no role: Gemini allows it).
std::optional<JsonElement> last_user_turn(JsonElement turns) {
  if (!is_array(turns)) return std::nullopt;
  std::optional<JsonElement> last;
  for (JsonElement turn : as_array(turns)) {
    const std::optional<JsonElement> role = element_at(turn, "/role");
    if (!role || string_at(turn, "/role") == "user") last = turn;
  }
  return last;
}

}  // namespace

std::string prompt_text_of(std::string_view key, JsonElement value, size_t max_bytes) {
  TextGatherer out(max_bytes);
  if (key == "messages") {
    if (const auto turn = last_user_turn(value)) {
      if (const auto content = element_at(*turn, "/content")) gather_content(*content, out);
    }
  } else if (key == "contents") {
    if (const auto turn = last_user_turn(value)) {
      if (const auto parts = element_at(*turn, "/parts")) gather_content(*parts, out);
    }
  } else if (key == "input" && is_array(value) && element_at(value, "/0/role")) {
    // Responses API input items: a conversation.
    if (const auto turn = last_user_turn(value)) {
      if (const auto content = element_at(*turn, "/content")) gather_content(*content, out);
    }
  } else if (key == "content") {  // Gemini embedContent
    if (const auto parts = element_at(value, "/parts")) gather_content(*parts, out);
  } else if (key == "requests") {  // Gemini batchEmbedContents
    if (is_array(value)) {
      for (JsonElement request : as_array(value)) {
        if (const auto parts = element_at(request, "/content/parts")) gather_content(*parts, out);
      }
    }
  } else {  // input / prompt / inputText / texts: a string or a list of them
    gather_content(value, out);
  }
  return out.take();
}

}  // namespace llmtap::llm
