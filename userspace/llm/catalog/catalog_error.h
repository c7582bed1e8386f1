#pragma once
// A provider catalog that cannot be loaded. The message names the place: "FILE:LINE:COL: what".

#include <stdexcept>
#include <string>

namespace llmtap::llm {

class CatalogError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace llmtap::llm
