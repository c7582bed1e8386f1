#include "fake_llm_api.h"

#include <gtest/gtest.h>

namespace llmtap::testing {
namespace {

HttpRequest request(std::string method, std::vector<HttpHeader> headers = {}) {
  return {.method = std::move(method),
          .target = "/v1/chat/completions",
          .version = "HTTP/1.1",
          .headers = std::move(headers),
          .body = {}};
}

TEST(FakeLlmApiTest, MinimalBodyIsTheDocumentedChatCompletion) {
  const std::string body = chat_completion_body(0);
  EXPECT_EQ(body.size(), minimal_chat_completion_body_size());
  EXPECT_EQ(body, R"({"id":"chatcmpl-test","object":"chat.completion","model":"gpt-4o-mini",)"
                  R"("choices":[{"index":0,"message":{"role":"assistant",)"
                  R"("content":"Hello from the llmtap test server."},"finish_reason":"stop"}],)"
                  R"("usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}})");
}

TEST(FakeLlmApiTest, PaddedBodyHasExactlyTheRequestedSize) {
  const size_t minimal = minimal_chat_completion_body_size();
  for (size_t size : {size_t{1}, minimal - 1, minimal, minimal + 1, size_t{100000}}) {
    const std::string body = chat_completion_body(size);
    EXPECT_EQ(body.size(), std::max(size, minimal)) << size;
    EXPECT_TRUE(body.starts_with(R"({"id":"chatcmpl-test")"));
    EXPECT_TRUE(body.ends_with(R"("total_tokens":17}})"));
  }
  EXPECT_EQ(chat_completion_body(kMaxResponseBodyBytes).size(), kMaxResponseBodyBytes);
}

TEST(FakeLlmApiTest, PostGetsSizedChatCompletion) {
  const HttpResponse response = respond_to(request("POST", {{"X-Response-Bytes", "500"}}));
  EXPECT_FALSE(response.close_after);
  EXPECT_TRUE(response.bytes.starts_with(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n"));
  EXPECT_EQ(response.bytes.size() - response.bytes.find("\r\n\r\n") - 4, 500u);
}

TEST(FakeLlmApiTest, InvalidResponseSizeIsBadRequestAndCloses) {
  for (const char* value : {"", "abc", "12x", "-1", "67108865"}) {
    const HttpResponse response = respond_to(request("POST", {{"x-response-bytes", value}}));
    EXPECT_TRUE(response.bytes.starts_with("HTTP/1.1 400 Bad Request\r\n")) << value;
    EXPECT_TRUE(response.close_after);
  }
}

TEST(FakeLlmApiTest, GetListsModelsAndOtherMethodsAreRejected) {
  EXPECT_NE(respond_to(request("GET")).bytes.find(R"("object":"list")"), std::string::npos);
  EXPECT_TRUE(respond_to(request("PUT")).bytes.starts_with("HTTP/1.1 405 Method Not Allowed"));
  EXPECT_TRUE(respond_to(request("GET", {{"Connection", "close"}})).close_after);
}

}  // namespace
}  // namespace llmtap::testing
