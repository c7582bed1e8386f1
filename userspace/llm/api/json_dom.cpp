#include "llm/api/json_dom.h"

#include "llm/api/json_salvage.h"

#include <vector>

namespace llmtap::llm {
namespace {

// Parsers a thread keeps for its next JsonDoms (nested ones take one each), and the largest
// buffers kept: a parser that read a big body gives its memory back.
constexpr size_t kPooledParsers = 4;
constexpr size_t kMaxPooledCapacity = size_t{1} << 20;

std::vector<std::unique_ptr<simdjson::dom::parser>>& parser_pool() {
  thread_local std::vector<std::unique_ptr<simdjson::dom::parser>> pool;
  return pool;
}

}  // namespace

JsonDom::JsonDom() {
  auto& pool = parser_pool();
  if (!pool.empty()) {
    parser_ = std::move(pool.back());
    pool.pop_back();
  } else {
    parser_ = std::make_unique<simdjson::dom::parser>();
  }
}

JsonDom::~JsonDom() {
  auto& pool = parser_pool();
  if (parser_ && parser_->capacity() <= kMaxPooledCapacity && pool.size() < kPooledParsers) {
    pool.push_back(std::move(parser_));
  }
}

bool JsonDom::parse(std::string_view text) {
  error_.clear();
  repairs_.clear();
  const simdjson::error_code first = parser_->parse(text.data(), text.size()).get(root_);
  if (!first) return true;
  std::optional<SalvagedJson> salvaged = salvage_json(text);
  if (salvaged && !parser_->parse(salvaged->text).get(root_)) {
    repairs_ = std::move(salvaged->repairs);
    return true;
  }
  error_ = simdjson::error_message(first);
  return false;
}

std::optional<JsonElement> element_at(JsonElement e, std::string_view pointer) {
  JsonElement found;
  if (e.at_pointer(pointer).get(found)) return std::nullopt;
  return found;
}

std::string_view string_at(JsonElement e, std::string_view pointer) {
  std::string_view value;
  if (e.at_pointer(pointer).get_string().get(value)) return {};
  return value;
}

std::optional<uint64_t> count_at(JsonElement e, std::string_view pointer) {
  const std::optional<JsonElement> found = element_at(e, pointer);
  if (!found) return std::nullopt;
  uint64_t unsigned_value = 0;
  if (!found->get_uint64().get(unsigned_value)) return unsigned_value;
  double real = 0;
  // 2^64 as a double; anything at or above it does not fit.
  if (!found->get_double().get(real) && real >= 0 && real < 18446744073709551616.0 &&
      real == static_cast<double>(static_cast<uint64_t>(real))) {
    return static_cast<uint64_t>(real);
  }
  return std::nullopt;
}

std::optional<bool> bool_at(JsonElement e, std::string_view pointer) {
  bool value = false;
  if (e.at_pointer(pointer).get_bool().get(value)) return std::nullopt;
  return value;
}

std::string code_at(JsonElement e, std::string_view pointer) {
  const std::optional<JsonElement> found = element_at(e, pointer);
  if (!found) return {};
  std::string_view text;
  if (!found->get_string().get(text)) return std::string(text);
  int64_t number = 0;
  if (!found->get_int64().get(number)) return std::to_string(number);
  return {};
}

JsonArray as_array(JsonElement e) {
  JsonArray array;
  const simdjson::error_code error = e.get_array().get(array);
  (void)error;  // precondition: e is an array
  return array;
}

bool is_object(JsonElement e) { return e.type() == simdjson::dom::element_type::OBJECT; }
bool is_array(JsonElement e) { return e.type() == simdjson::dom::element_type::ARRAY; }

}  // namespace llmtap::llm
