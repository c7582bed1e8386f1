#pragma once
// The first bytes of a file (a /proc entry, a header), read no further than a limit: /proc
// files can be large or endless, and their size is not known in advance.

#include <cstddef>
#include <optional>
#include <string>

namespace llmtap {

// nullopt when the file cannot be opened; what could be read otherwise (at most `limit`).
std::optional<std::string> read_file_prefix(const std::string& path, size_t limit);

}  // namespace llmtap
