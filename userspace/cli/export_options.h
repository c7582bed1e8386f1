#pragma once
// The daemon's event destinations, from `--config FILE` (its `sinks:`, `spool:` and `metrics:`
// sections) and the flags for the common cases, which add sinks to the file's.

#include <string>
#include <vector>

#include "export/sink_config.h"

namespace llmtap::cli {

struct ExportFlags {
  std::string config_file;
  std::string stdout_format = "ocsf";  // --format
  bool no_stdout = false;
  std::string output_file;             // --output-file
  std::string syslog_url;              // --syslog
  std::string syslog_format = "ocsf";  // --syslog-format
  std::string splunk_hec_url;          // --splunk-hec
  std::string splunk_token_file;       // --splunk-token-file
  std::string elastic_url;             // --elastic
  std::string elastic_api_key_file;    // --elastic-api-key-file
  std::string webhook_url;             // --webhook
  std::string ca_file;                 // --sink-ca-file: trust for the network sinks above
  std::string spool_dir;               // --spool-dir
  std::string metrics_address;         // --metrics-address ("off": none)
};

struct ExportSetup {
  exporter::ExportConfig config;  // sinks other than stdout are delivered by the router
  bool write_stdout = true;
  exporter::SinkConfig stdout_sink;  // its format and filter (default: OCSF, everything)
};

// Reads the config file (throws YamlError naming file:line:column), adds the flags' sinks and
// checks the whole (throws std::runtime_error listing every problem).
ExportSetup build_export_setup(const ExportFlags& flags);

// Top-level keys of the config file that belong to the export stage.
inline constexpr const char* kConfigFileHelp =
    "YAML with `sinks:` (stdout, file, syslog, splunk-hec, elastic, webhook; each with its "
    "format, filter and spool), `spool:` and `metrics:`; see docs/sinks.md";

}  // namespace llmtap::cli
