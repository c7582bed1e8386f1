#pragma once
// The last few extractions of request and response bodies, reused for an equal body. The two
// ends of a call made and served on one host (a model served by a pod, and its client) carry
// the same bodies: the second end's facts are the first's. Bodies are compared byte for byte
// (never by hash: a collision would misreport a call), and only bodies up to 64 KiB are kept.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_message.h"
#include "llm/api/extract.h"

namespace llmtap::llm {

class ExtractionMemo {
 public:
  static constexpr size_t kEntries = 4;
  static constexpr size_t kMaxBodyBytes = 64 * 1024;

  explicit ExtractionMemo(ExtractOptions options) : options_(options) {}

  // extract_request / extract_response (extract.h), or an equal earlier call's result.
  // `readable` as for extract_request.
  RequestFacts request(ApiFamily family, std::string_view body, size_t readable = 0);
  ResponseFacts response(ApiFamily family, int status, const http::HeaderFields& headers,
                         std::string_view body);

  uint64_t hits() const { return hits_; }

 private:
  struct RequestEntry {
    bool used = false;
    ApiFamily family{};
    std::string body;
    RequestFacts facts;
  };
  struct ResponseEntry {
    bool used = false;
    ApiFamily family{};
    int status = 0;
    std::string body;
    ResponseFacts facts;
  };

  ExtractOptions options_;
  std::array<RequestEntry, kEntries> requests_;
  std::array<ResponseEntry, kEntries> responses_;
  size_t next_request_ = 0;
  size_t next_response_ = 0;
  uint64_t hits_ = 0;
};

}  // namespace llmtap::llm
