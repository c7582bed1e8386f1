#pragma once
// Shorthands for the extractor tests.

#include <string>
#include <string_view>
#include <vector>

#include "llm/api/extract.h"

namespace llmtap::llm::test {

inline const ExtractOptions kNoText{};
inline const ExtractOptions kWithText{.capture_text = true, .max_text_bytes = 4096};

inline ResponseFacts body(ApiFamily family, std::string_view json, int status = 200,
                          const ExtractOptions& options = kNoText,
                          const http::HeaderFields& headers = {}) {
  return extract_response(family, status, headers, json, options);
}

// Events from (type, data) pairs; a type starting with '!' marks an exception event.
inline ResponseFacts stream(ApiFamily family,
                            const std::vector<std::pair<std::string, std::string>>& events,
                            const ExtractOptions& options = kNoText) {
  std::vector<StreamEvent> list;
  for (const auto& [type, data] : events) {
    const bool exception = type.starts_with("!");
    list.push_back(
        {.type = exception ? type.substr(1) : type, .data = data, .is_exception = exception});
  }
  return extract_stream(family, list, options);
}

}  // namespace llmtap::llm::test
