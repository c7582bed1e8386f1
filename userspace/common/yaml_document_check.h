#pragma once
// Finds content after the first YAML document. yaml-cpp's LoadAll loops forever on some
// inputs (a lone ","), and Load silently drops whatever follows the first document, so the
// loader asks the parser for at most two documents itself.

#include <yaml-cpp/mark.h>

#include <optional>
#include <string>

namespace llmtap {

// Where a second document (or stray content the parser treats as one) starts, if any.
// Throws YAML::ParserException on a syntax error, like YAML::Load.
std::optional<YAML::Mark> find_second_document(const std::string& yaml_text);

}  // namespace llmtap
