#pragma once
// A catalog host pattern: "api.openai.com", "*.openai.azure.com", "*-aiplatform.googleapis.com",
// "bedrock-runtime.*.amazonaws.com", "*", each optionally with ":port".

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/catalog/request_host.h"

namespace llmtap::llm {

class HostPattern {
 public:
  static constexpr size_t kMaxPatternBytes = 300;

  // Compiles `text`; on failure returns nullopt and says why in `error`.
  static std::optional<HostPattern> compile(std::string_view text, std::string& error);

  bool matches(const RequestHost& host) const;

  // The lowercase host name when the pattern has no wildcard (indexed in a hash map).
  std::optional<std::string_view> exact_name() const;

 private:
  // One dot-separated label: literal, or prefix + `*` + suffix (one or more characters).
  struct Label {
    std::string prefix;
    std::string suffix;
    bool wildcard = false;
    bool matches(std::string_view label) const;
  };

  bool any_host_ = false;        // "*": every host, including IP literals
  bool leading_labels_ = false;  // "*." prefix: one or more labels before `labels_`
  std::vector<Label> labels_;    // right-most last
  int port_ = -1;                // -1: any port
  std::string exact_;            // the whole name when nothing in it is a wildcard
  std::string literal_suffix_;   // the name after its last `*`: a cheap first rejection
};

}  // namespace llmtap::llm
