#pragma once
// A responder for the test TLS server that answers each request with a corpus case's recorded
// response (tests/data/corpus): the request names its case in `x-llmtap-case`. Streamed
// responses go out in several writes, a few milliseconds apart, as a real API sends them.

#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "fake_llm_api.h"
#include "http_request_reader.h"

namespace llmtap::testing {

class CorpusReplay {
 public:
  explicit CorpusReplay(std::filesystem::path corpus_dir);
  HttpResponse respond(const HttpRequest& request);

 private:
  std::filesystem::path dir_;
  std::mutex mutex_;  // the server answers from one thread per connection
  std::map<std::string, std::string> responses_;  // case name -> response bytes
};

}  // namespace llmtap::testing
