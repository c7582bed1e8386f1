#include "corpus_replay.h"

#include <chrono>
#include <utility>

#include "corpus_wire.h"

namespace llmtap::testing {
namespace {

HttpResponse not_found(const std::string& why) {
  const std::string body = R"({"error":{"type":"not_found","message":")" + why + R"("}})";
  HttpResponse response;
  response.bytes = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body;
  return response;
}

}  // namespace

CorpusReplay::CorpusReplay(std::filesystem::path corpus_dir) : dir_(std::move(corpus_dir)) {}

HttpResponse CorpusReplay::respond(const HttpRequest& request) {
  const auto name = request.header("x-llmtap-case");
  if (!name || name->find("..") != std::string_view::npos) return not_found("no x-llmtap-case");
  std::string bytes;
  {
    const std::lock_guard lock(mutex_);
    auto it = responses_.find(std::string(*name));
    if (it == responses_.end()) {
      try {
        it = responses_.emplace(*name, load_corpus_case(dir_ / *name).response_bytes).first;
      } catch (const std::exception& e) {
        return not_found("unknown case");
      }
    }
    bytes = it->second;
  }
  // Headers first, then the body in up to 8 pieces: readers see a stream arrive over time.
  HttpResponse response;
  const size_t head_end = bytes.find("\r\n\r\n");
  const size_t split = head_end == std::string::npos ? bytes.size() : head_end + 4;
  response.bytes = bytes.substr(0, split);
  const size_t body = bytes.size() - split;
  const size_t piece = body / 8 + 1;
  for (size_t at = split; at < bytes.size(); at += piece) {
    response.parts.push_back(bytes.substr(at, piece));
  }
  response.part_delay = std::chrono::milliseconds(2);
  return response;
}

}  // namespace llmtap::testing
