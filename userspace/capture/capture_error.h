#pragma once

#include <stdexcept>

namespace llmtap::capture {

// Capture cannot start or continue; what() says what is missing and how to fix it.
class CaptureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace llmtap::capture
