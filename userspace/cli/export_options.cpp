#include "cli/export_options.h"

#include <stdexcept>

#include "common/yaml_reader.h"

namespace llmtap::cli {
namespace {

using exporter::SinkConfig;
using exporter::SinkFormat;
using exporter::SinkType;

SinkFormat format_named(const std::string& name) {
  if (name == "ecs") return SinkFormat::kEcs;
  if (name == "cef") return SinkFormat::kCef;
  return SinkFormat::kOcsf;
}

SinkConfig network_sink(SinkType type, const std::string& url, const ExportFlags& flags) {
  SinkConfig s;
  s.type = type;
  s.name = std::string(exporter::sink_type_name(type));
  s.url = url;
  s.ca_file = flags.ca_file;
  return s;
}

}  // namespace

ExportSetup build_export_setup(const ExportFlags& flags) {
  ExportSetup setup;
  bool listed_sinks = false;
  if (!flags.config_file.empty()) {
    setup.config = exporter::parse_export_config(read_config_file(flags.config_file),
                                                 flags.config_file);
    listed_sinks = !setup.config.sinks.empty();
  }
  auto& sinks = setup.config.sinks;
  if (!flags.output_file.empty()) {
    SinkConfig s;
    s.type = SinkType::kFile;
    s.name = "file";
    s.file.path = flags.output_file;
    sinks.push_back(s);
  }
  if (!flags.syslog_url.empty()) {
    SinkConfig s = network_sink(SinkType::kSyslog, flags.syslog_url, flags);
    s.format = format_named(flags.syslog_format);
    sinks.push_back(s);
  }
  if (!flags.splunk_hec_url.empty()) {
    SinkConfig s = network_sink(SinkType::kSplunkHec, flags.splunk_hec_url, flags);
    s.token_file = flags.splunk_token_file;
    sinks.push_back(s);
  }
  if (!flags.elastic_url.empty()) {
    SinkConfig s = network_sink(SinkType::kElastic, flags.elastic_url, flags);
    s.format = SinkFormat::kEcs;  // what Elastic's own dashboards read
    s.token_file = flags.elastic_api_key_file;
    sinks.push_back(s);
  }
  if (!flags.webhook_url.empty()) {
    sinks.push_back(network_sink(SinkType::kWebhook, flags.webhook_url, flags));
  }
  if (!flags.spool_dir.empty()) setup.config.spool_root = flags.spool_dir;
  if (!flags.metrics_address.empty()) {
    setup.config.metrics = flags.metrics_address != "off";
    if (setup.config.metrics) setup.config.metrics_address = flags.metrics_address;
  }

  // stdout: on, unless switched off or the config file lists sinks without it.
  setup.stdout_sink.type = SinkType::kStdout;
  setup.stdout_sink.name = "stdout";
  setup.write_stdout = !flags.no_stdout && !listed_sinks;
  for (const SinkConfig& s : sinks) {
    if (s.type == SinkType::kStdout) {
      setup.write_stdout = !flags.no_stdout;
      setup.stdout_sink = s;
    }
  }
  if (flags.stdout_format != "ocsf") setup.stdout_sink.format = format_named(flags.stdout_format);

  std::vector<std::string> problems = exporter::finish_export_config(setup.config);
  if (!problems.empty()) {
    std::string text = "event sinks:";
    for (const auto& p : problems) text += "\n  " + p;
    throw std::runtime_error(text);
  }
  return setup;
}

}  // namespace llmtap::cli
