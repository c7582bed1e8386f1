#pragma once
// Captured JSON is often not quite JSON: bodies cut at the capture limit, invalid UTF-8 in
// user text, lone UTF-16 surrogates escaped by JavaScript clients. simdjson rejects a whole
// document for any of these, so this rewrites the text into something it can read, keeping
// every complete value that was there.

#include <optional>
#include <string>
#include <string_view>

namespace llmtap::llm {

struct SalvagedJson {
  std::string text;
  std::string repairs;  // what was changed, e.g. "invalid UTF-8 replaced; cut short, closed"
};

// nullopt when there is nothing this can fix (the text is then bad in some other way).
std::optional<SalvagedJson> salvage_json(std::string_view text);

}  // namespace llmtap::llm
