#pragma once
// Where events go: the daemon's sinks, from a config file (`sinks:` in --config) and from the
// flags for the common cases. Several sinks at once, each with its own format, filter and
// delivery (memory queue, disk spool). Errors name the file, line and column.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "export/delivery_queue.h"
#include "export/file_transport.h"

namespace llmtap::exporter {

enum class SinkType { kStdout, kFile, kSyslog, kSplunkHec, kElastic, kWebhook };
enum class SinkFormat { kOcsf, kEcs, kCef };  // CEF: syslog only

std::string_view sink_type_name(SinkType type);

struct SinkFilter {
  uint8_t min_severity = 0;  // OCSF severity_id; calls are 1 (Informational)
  bool llm_calls = true;
  bool findings = true;
  std::vector<std::string> drop_fields;  // dotted OCSF paths, e.g. actor.process.cmd_line
  std::vector<std::string> hash_fields;  // replaced by "sha256:<hex>" of their value
  bool edits_fields() const { return !drop_fields.empty() || !hash_fields.empty(); }
};

struct SinkConfig {
  std::string name;
  SinkType type = SinkType::kStdout;
  SinkFormat format = SinkFormat::kOcsf;
  SinkFilter filter;
  // Network destinations (syslog: udp://, tcp://, tls:// URL; HTTP: the collector's URL).
  std::string url;
  std::string token;
  std::string token_file;
  std::string username;
  std::string password_file;
  std::string index;
  std::string ca_file;
  std::string client_cert_file;
  std::string client_key_file;
  bool gzip = true;
  bool insecure_skip_verify = false;
  std::map<std::string, std::string> headers;
  FileTarget file;  // type file
  DeliveryOptions delivery;
  bool spool = true;  // network sinks; the spool lives in <spool root>/<name>
};

struct ExportConfig {
  std::vector<SinkConfig> sinks;  // none: stdout alone
  std::string spool_root = "/var/lib/llmtap/spool";
  uint64_t spool_budget_bytes = uint64_t{1} << 30;  // per sink
  std::string metrics_address = ":9464";
  bool metrics = true;
};

// The `sinks:`, `spool:` and `metrics:` sections of a config file's text; other top-level keys
// are left to their owners (`known_other_keys`). Throws YamlError.
ExportConfig parse_export_config(const std::string& text, const std::string& source,
                                 const std::vector<std::string_view>& known_other_keys = {});

// Checks what the parser cannot: names unique, spool directories assigned, each sink's
// required settings. Returns the problems (empty: fine).
std::vector<std::string> finish_export_config(ExportConfig& config);

}  // namespace llmtap::exporter
