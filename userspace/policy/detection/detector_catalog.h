#pragma once
// Detector definition files: the built-in ones (policies/detectors/secrets.yaml and
// personal_data.yaml, compiled in) and any file in the same format. Format and meaning of
// each key: docs/policy.md.

#include <string>
#include <string_view>
#include <vector>

#include "common/yaml_reader.h"
#include "policy/detection/detector_spec.h"

namespace llmtap::policy {

// Every built-in detector (secrets and personal data).
const std::vector<DetectorSpec>& builtin_detectors();

// Reads a detector file; throws YamlError naming file:line:column and the detector.
std::vector<DetectorSpec> read_detector_file(const std::string& yaml_text,
                                             const std::string& source);

// Reads a list of detector definitions (a detector file's `detectors`, or a policy's own),
// whose category is `default_category` unless they say otherwise.
std::vector<DetectorSpec> read_detector_list(YamlReader& reader, const YAML::Node& list,
                                             DetectorCategory default_category);

std::string_view category_name(DetectorCategory c);  // "secret", "personal-data", ...

}  // namespace llmtap::policy
