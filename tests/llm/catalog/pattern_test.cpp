// Host and path patterns, and the pieces of a request they are matched against.

#include <gtest/gtest.h>

#include <string>

#include "llm/catalog/host_pattern.h"
#include "llm/catalog/path_pattern.h"
#include "llm/catalog/percent_decoding.h"
#include "llm/catalog/request_host.h"
#include "llm/catalog/request_target.h"

namespace llmtap::llm {
namespace {

bool host_matches(std::string_view pattern, std::string_view host) {
  std::string error;
  const auto compiled = HostPattern::compile(pattern, error);
  EXPECT_TRUE(compiled) << pattern << ": " << error;
  return compiled && compiled->matches(RequestHost(host));
}

TEST(HostPattern, Exact) {
  EXPECT_TRUE(host_matches("api.openai.com", "api.openai.com"));
  EXPECT_TRUE(host_matches("API.openai.com", "api.OPENAI.com:8443"));
  EXPECT_FALSE(host_matches("api.openai.com", "xapi.openai.com"));
  EXPECT_FALSE(host_matches("api.openai.com", "api.openai.com.evil.test"));
  EXPECT_FALSE(host_matches("api.openai.com", "openai.com"));
}

TEST(HostPattern, Suffix) {
  EXPECT_TRUE(host_matches("*.openai.azure.com", "r.openai.azure.com"));
  EXPECT_TRUE(host_matches("*.openai.azure.com", "a.b.openai.azure.com"));
  EXPECT_FALSE(host_matches("*.openai.azure.com", "openai.azure.com"));
  EXPECT_FALSE(host_matches("*.openai.azure.com", "evilopenai.azure.com"));
}

TEST(HostPattern, StarInsideALabel) {
  EXPECT_TRUE(host_matches("*-aiplatform.googleapis.com", "us-central1-aiplatform.googleapis.com"));
  EXPECT_FALSE(host_matches("*-aiplatform.googleapis.com", "-aiplatform.googleapis.com"));
  EXPECT_FALSE(host_matches("*-aiplatform.googleapis.com", "a.b-aiplatform.googleapis.com"));
  EXPECT_TRUE(
      host_matches("bedrock-runtime.*.amazonaws.com", "bedrock-runtime.us-east-1.amazonaws.com"));
  EXPECT_FALSE(host_matches("bedrock-runtime.*.amazonaws.com", "bedrock-runtime.amazonaws.com"));
  EXPECT_FALSE(
      host_matches("bedrock-runtime.*.amazonaws.com", "bedrock-runtime.a.b.amazonaws.com"));
}

TEST(HostPattern, Ports) {
  EXPECT_TRUE(host_matches("*:11434", "localhost:11434"));
  EXPECT_TRUE(host_matches("*:11434", "[::1]:11434"));
  EXPECT_FALSE(host_matches("*:11434", "localhost"));
  EXPECT_FALSE(host_matches("*:11434", "localhost:11435"));
  EXPECT_TRUE(host_matches("localhost:8000", "LOCALHOST:8000"));
  EXPECT_FALSE(host_matches("localhost:8000", "other:8000"));
  EXPECT_TRUE(host_matches("[::1]:8000", "[::1]:8000"));
  EXPECT_TRUE(host_matches("10.0.0.7", "10.0.0.7:80"));
}

TEST(HostPattern, AnyHost) {
  EXPECT_TRUE(host_matches("*", "anything.example"));
  EXPECT_TRUE(host_matches("*", ""));
  EXPECT_TRUE(host_matches("*", "[fe80::1]"));
}

TEST(HostPattern, ExactNamesAreIndexable) {
  std::string error;
  EXPECT_EQ(HostPattern::compile("API.openai.com:443", error)->exact_name(), "api.openai.com");
  EXPECT_FALSE(HostPattern::compile("*.openai.com", error)->exact_name());
  EXPECT_FALSE(HostPattern::compile("a*.openai.com", error)->exact_name());
  EXPECT_FALSE(HostPattern::compile("*", error)->exact_name());
}

TEST(RequestHost, LongNamesMatchOnlyAnyHost) {
  const std::string long_host(300, 'a');
  EXPECT_TRUE(host_matches("*", long_host));
  EXPECT_FALSE(host_matches("*.a", long_host + ".a"));
}

struct PathResult {
  bool matched = false;
  std::string model;
  std::string deployment;
};

PathResult match_path(std::string_view pattern, std::string_view path) {
  std::string error;
  const auto compiled = PathPattern::compile(pattern, error);
  EXPECT_TRUE(compiled) << pattern << ": " << error;
  PathCaptures captures;
  PathResult result;
  result.matched = compiled && compiled->matches(PathSegments(path), captures);
  result.model = captures.model;
  result.deployment = captures.deployment;
  return result;
}

TEST(PathPattern, Literals) {
  EXPECT_TRUE(match_path("/v1/chat/completions", "/v1/chat/completions").matched);
  EXPECT_FALSE(match_path("/v1/chat/completions", "/v1/chat/completions/x").matched);
  EXPECT_FALSE(match_path("/v1/chat/completions", "/v1/chat").matched);
  EXPECT_FALSE(match_path("/v1/chat/completions", "/V1/chat/completions").matched);
}

TEST(PathPattern, CapturesInsideSegments) {
  const PathResult r = match_path("/v1beta/models/{model}:generateContent",
                                  "/v1beta/models/gemini-pro:generateContent");
  EXPECT_TRUE(r.matched);
  EXPECT_EQ(r.model, "gemini-pro");
  EXPECT_FALSE(
      match_path("/v1beta/models/{model}:generateContent", "/v1beta/models/:generateContent")
          .matched);
  EXPECT_FALSE(match_path("/v1beta/models/{model}:generateContent",
                          "/v1beta/models/gemini-pro:streamGenerateContent")
                   .matched);
  // The captured text may contain the literal that follows it.
  EXPECT_EQ(match_path("/m/{model}:x", "/m/a:x:x").model, "a:x");
  EXPECT_EQ(match_path("/m/a{model}b{deployment}c", "/m/a1b2bc").model, "1");
  EXPECT_EQ(match_path("/m/a{model}b{deployment}c", "/m/a1b2bc").deployment, "2b");
}

TEST(PathPattern, Stars) {
  EXPECT_TRUE(match_path("/v1*/models", "/v1beta/models").matched);
  EXPECT_TRUE(match_path("/v1*/models", "/v1/models").matched);
  EXPECT_FALSE(match_path("/v1*/models", "/v2/models").matched);
  EXPECT_TRUE(match_path("/*/v1/chat", "/together/v1/chat").matched);
  EXPECT_FALSE(match_path("/*/v1/chat", "/v1/chat").matched);
}

TEST(PathPattern, AnySegments) {
  EXPECT_TRUE(match_path("/**/chat/completions", "/chat/completions").matched);
  EXPECT_TRUE(match_path("/**/chat/completions", "/a/b/c/chat/completions").matched);
  EXPECT_FALSE(match_path("/**/chat/completions", "/a/chat/completions/b").matched);
  EXPECT_TRUE(match_path("/a/**", "/a").matched);
  EXPECT_TRUE(match_path("/a/**/b/**/{model}", "/a/x/b/y/z/m1").matched);
  EXPECT_EQ(match_path("/a/**/b/**/{model}", "/a/x/b/y/z/m1").model, "m1");
}

TEST(PathPattern, ManySegmentsAreNotAnLlmPath) {
  std::string path;
  for (int i = 0; i < 100; ++i) path += "/a";
  EXPECT_FALSE(match_path("/**", path).matched);
  EXPECT_TRUE(PathSegments(path).overflowed());
}

TEST(RequestTarget, Splits) {
  TargetParts parts = split_target("/v1/x?key=1&a=b#f");
  EXPECT_EQ(parts.path, "/v1/x");
  EXPECT_EQ(parts.query, "key=1&a=b");
  parts = split_target("http://h:1/p?q");
  EXPECT_EQ(parts.authority, "h:1");
  EXPECT_EQ(parts.path, "/p");
  EXPECT_EQ(parts.query, "q");
  parts = split_target("/redirect?to=https://x/y");
  EXPECT_EQ(parts.authority, "");
  EXPECT_EQ(parts.path, "/redirect");
}

TEST(PercentDecode, DecodesValidEscapesOnly) {
  EXPECT_EQ(percent_decode("anthropic.claude-v1%3A0"), "anthropic.claude-v1:0");
  EXPECT_EQ(percent_decode("a%2fb%2Fc"), "a/b/c");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
}

}  // namespace
}  // namespace llmtap::llm
