#include "llm/extraction_memo.h"

namespace llmtap::llm {

RequestFacts ExtractionMemo::request(ApiFamily family, std::string_view body, size_t readable) {
  if (body.size() > kMaxBodyBytes) return extract_request(family, body, options_, readable);
  for (const RequestEntry& e : requests_) {
    if (e.used && e.family == family && e.body == body) {
      ++hits_;
      return e.facts;
    }
  }
  RequestEntry& e = requests_[next_request_];
  next_request_ = (next_request_ + 1) % kEntries;
  e.facts = extract_request(family, body, options_, readable);
  e.used = true;
  e.family = family;
  e.body.assign(body);
  return e.facts;
}

ResponseFacts ExtractionMemo::response(ApiFamily family, int status,
                                       const http::HeaderFields& headers,
                                       std::string_view body) {
  if (body.size() > kMaxBodyBytes || response_facts_read_headers(family)) {
    return extract_response(family, status, headers, body, options_);
  }
  for (const ResponseEntry& e : responses_) {
    if (e.used && e.family == family && e.status == status && e.body == body) {
      ++hits_;
      return e.facts;
    }
  }
  ResponseEntry& e = responses_[next_response_];
  next_response_ = (next_response_ + 1) % kEntries;
  e.facts = extract_response(family, status, headers, body, options_);
  e.used = true;
  e.family = family;
  e.status = status;
  e.body.assign(body);
  return e.facts;
}

}  // namespace llmtap::llm
