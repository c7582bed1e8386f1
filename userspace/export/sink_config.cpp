#include "export/sink_config.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "common/yaml_reader.h"

namespace llmtap::exporter {
namespace {

constexpr std::string_view kTopKeys[] = {"sinks", "spool", "metrics"};
constexpr std::string_view kSpoolKeys[] = {"dir", "max_bytes"};
constexpr std::string_view kMetricsKeys[] = {"address", "enabled"};
constexpr std::string_view kSinkKeys[] = {
    "name",         "type",          "format",       "min_severity",   "events",
    "drop_fields",  "hash_fields",   "url",          "token",          "token_file",
    "username",     "password_file", "index",        "ca_file",        "client_cert_file",
    "client_key_file", "gzip",       "insecure_skip_verify", "headers", "path",
    "max_file_bytes", "keep",        "fsync",        "batch_delay_ms", "memory_records",
    "spool",        "spool_max_bytes"};

// "1GiB", "500MiB", "64KiB", "1000000": sizes people write.
uint64_t size_value(YamlReader& r, const YAML::Node& node, std::string_view what) {
  const std::string text = r.scalar(node, what);
  size_t end = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(text, &end);
  } catch (const std::exception&) {
    r.fail(node, std::string(what) + " must be a size such as 1048576, 64KiB, 500MiB or 1GiB");
  }
  const std::string unit = text.substr(end);
  uint64_t scale = 1;
  if (unit == "KiB") {
    scale = uint64_t{1} << 10;
  } else if (unit == "MiB") {
    scale = uint64_t{1} << 20;
  } else if (unit == "GiB") {
    scale = uint64_t{1} << 30;
  } else if (!unit.empty()) {
    r.fail(node, std::string(what) + " must be a size such as 1048576, 64KiB, 500MiB or 1GiB");
  }
  if (n > (uint64_t{1} << 50) / scale) r.fail(node, std::string(what) + " is too large");
  return n * scale;
}

uint8_t severity_value(YamlReader& r, const YAML::Node& node) {
  static const std::map<std::string, uint8_t> kNames = {
      {"informational", 1}, {"info", 1},     {"low", 2},   {"medium", 3},
      {"high", 4},          {"critical", 5}, {"fatal", 6}};
  const std::string text = r.scalar(node, "'min_severity'");
  if (const auto it = kNames.find(text); it != kNames.end()) return it->second;
  r.fail(node, "'min_severity' must be informational, low, medium, high, critical or fatal");
}

SinkConfig read_sink(YamlReader& r, const YAML::Node& node) {
  const auto f = r.fields(node, "a sink", kSinkKeys);
  SinkConfig s;
  const YAML::Node& type_node = r.require(f, "type", node);
  const std::string type = r.scalar(type_node, "'type'");
  static const std::map<std::string, SinkType> kTypes = {
      {"stdout", SinkType::kStdout},         {"file", SinkType::kFile},
      {"syslog", SinkType::kSyslog},         {"splunk-hec", SinkType::kSplunkHec},
      {"elastic", SinkType::kElastic},       {"webhook", SinkType::kWebhook}};
  const auto t = kTypes.find(type);
  if (t == kTypes.end()) {
    r.fail(type_node, "'type' must be stdout, file, syslog, splunk-hec, elastic or webhook");
  }
  s.type = t->second;
  s.name = type;
  if (const auto* v = r.optional(f, "name")) s.name = r.scalar(*v, "'name'");
  r.set_context("sink " + s.name);
  if (const auto* v = r.optional(f, "format")) {
    const std::string format = r.scalar(*v, "'format'");
    if (format == "ocsf") {
      s.format = SinkFormat::kOcsf;
    } else if (format == "ecs") {
      s.format = SinkFormat::kEcs;
    } else if (format == "cef" && s.type == SinkType::kSyslog) {
      s.format = SinkFormat::kCef;
    } else {
      r.fail(*v, "'format' must be ocsf or ecs (or cef, for syslog)");
    }
  }
  if (const auto* v = r.optional(f, "min_severity")) s.filter.min_severity = severity_value(r, *v);
  if (const auto* v = r.optional(f, "events")) {
    s.filter.llm_calls = s.filter.findings = false;
    for (const std::string& e : r.strings(*v, "'events'")) {
      if (e == "llm_call") {
        s.filter.llm_calls = true;
      } else if (e == "finding") {
        s.filter.findings = true;
      } else {
        r.fail(*v, "'events' lists llm_call and/or finding, not '" + e + "'");
      }
    }
  }
  if (const auto* v = r.optional(f, "drop_fields")) s.filter.drop_fields = r.strings(*v, "'drop_fields'");
  if (const auto* v = r.optional(f, "hash_fields")) s.filter.hash_fields = r.strings(*v, "'hash_fields'");
  auto text = [&](const char* key, std::string& into) {
    if (const auto* v = r.optional(f, key)) into = r.scalar(*v, std::string("'") + key + "'");
  };
  text("url", s.url);
  text("token", s.token);
  text("token_file", s.token_file);
  text("username", s.username);
  text("password_file", s.password_file);
  text("index", s.index);
  text("ca_file", s.ca_file);
  text("client_cert_file", s.client_cert_file);
  text("client_key_file", s.client_key_file);
  text("path", s.file.path);
  if (const auto* v = r.optional(f, "gzip")) s.gzip = r.boolean(*v, "'gzip'");
  if (const auto* v = r.optional(f, "insecure_skip_verify")) {
    s.insecure_skip_verify = r.boolean(*v, "'insecure_skip_verify'");
  }
  if (const auto* v = r.optional(f, "headers")) {
    if (!v->IsMap()) r.fail(*v, "'headers' must be a mapping of header to value");
    for (const auto& pair : *v) {
      s.headers[r.scalar(pair.first, "a header name")] = r.scalar(pair.second, "a header value");
    }
  }
  if (const auto* v = r.optional(f, "max_file_bytes")) {
    s.file.max_bytes = size_value(r, *v, "'max_file_bytes'");
  }
  if (const auto* v = r.optional(f, "keep")) {
    s.file.keep = static_cast<unsigned>(r.number(*v, "'keep'", 0, 1000));
  }
  if (const auto* v = r.optional(f, "fsync")) {
    const std::string fsync = r.scalar(*v, "'fsync'");
    if (fsync == "never") {
      s.file.fsync = FileTarget::Fsync::kNever;
    } else if (fsync == "batch") {
      s.file.fsync = FileTarget::Fsync::kBatch;
    } else if (fsync == "interval") {
      s.file.fsync = FileTarget::Fsync::kInterval;
    } else {
      r.fail(*v, "'fsync' must be never, batch or interval");
    }
  }
  if (const auto* v = r.optional(f, "batch_delay_ms")) {
    s.delivery.batch_delay =
        std::chrono::milliseconds(static_cast<int64_t>(r.number(*v, "'batch_delay_ms'", 0, 60000)));
  }
  if (const auto* v = r.optional(f, "memory_records")) {
    s.delivery.memory_records = static_cast<size_t>(r.number(*v, "'memory_records'", 1, 1e7));
  }
  if (const auto* v = r.optional(f, "spool")) s.spool = r.boolean(*v, "'spool'");
  if (const auto* v = r.optional(f, "spool_max_bytes")) {
    s.delivery.spool_budget_bytes = size_value(r, *v, "'spool_max_bytes'");
  }
  r.set_context("");
  return s;
}

}  // namespace

std::string_view sink_type_name(SinkType type) {
  switch (type) {
    case SinkType::kStdout: return "stdout";
    case SinkType::kFile: return "file";
    case SinkType::kSyslog: return "syslog";
    case SinkType::kSplunkHec: return "splunk-hec";
    case SinkType::kElastic: return "elastic";
    case SinkType::kWebhook: return "webhook";
  }
  return "?";
}

ExportConfig parse_export_config(const std::string& text, const std::string& source,
                                 const std::vector<std::string_view>& known_other_keys) {
  YamlReader r(source);
  const YAML::Node root = parse_yaml_document(text, source);
  ExportConfig c;
  if (!root || root.IsNull()) return c;
  std::vector<std::string_view> allowed(std::begin(kTopKeys), std::end(kTopKeys));
  allowed.insert(allowed.end(), known_other_keys.begin(), known_other_keys.end());
  const auto top = r.fields(root, "the config file", allowed);
  if (const auto* v = r.optional(top, "spool")) {
    const auto f = r.fields(*v, "'spool'", kSpoolKeys);
    if (const auto* d = r.optional(f, "dir")) c.spool_root = r.scalar(*d, "'dir'");
    if (const auto* b = r.optional(f, "max_bytes")) {
      c.spool_budget_bytes = size_value(r, *b, "'max_bytes'");
    }
  }
  if (const auto* v = r.optional(top, "metrics")) {
    const auto f = r.fields(*v, "'metrics'", kMetricsKeys);
    if (const auto* a = r.optional(f, "address")) c.metrics_address = r.scalar(*a, "'address'");
    if (const auto* e = r.optional(f, "enabled")) c.metrics = r.boolean(*e, "'enabled'");
  }
  if (const auto* v = r.optional(top, "sinks")) {
    for (const auto& item : r.sequence(*v, "'sinks'")) {
      SinkConfig s = read_sink(r, item);
      if (s.delivery.spool_budget_bytes == DeliveryOptions{}.spool_budget_bytes) {
        s.delivery.spool_budget_bytes = c.spool_budget_bytes;
      }
      c.sinks.push_back(std::move(s));
    }
  }
  return c;
}

std::vector<std::string> finish_export_config(ExportConfig& c) {
  std::vector<std::string> problems;
  std::set<std::string> names;
  for (SinkConfig& s : c.sinks) {
    const std::string who = "sink " + s.name;
    const bool name_ok = !s.name.empty() && s.name.size() <= 64 &&
                         std::all_of(s.name.begin(), s.name.end(), [](char ch) {
                           return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' ||
                                  ch == '_' || ch == '.';
                         }) &&
                         s.name != "." && s.name != "..";
    if (!name_ok) {
      problems.push_back(who + ": a name is letters, digits, '-', '_' and '.' (it names the "
                               "sink's spool directory)");
    }
    if (!names.insert(s.name).second) {
      problems.push_back(who + ": the name is used twice (give each sink a `name`)");
    }
    const bool network = s.type == SinkType::kSyslog || s.type == SinkType::kSplunkHec ||
                         s.type == SinkType::kElastic || s.type == SinkType::kWebhook;
    if (network && s.url.empty()) problems.push_back(who + ": needs `url`");
    if (s.type == SinkType::kFile && s.file.path.empty()) problems.push_back(who + ": needs `path`");
    if (s.type == SinkType::kSplunkHec && s.token.empty() && s.token_file.empty()) {
      problems.push_back(who + ": Splunk HEC needs `token_file` (or `token`)");
    }
    if (s.format == SinkFormat::kCef && s.type != SinkType::kSyslog) {
      problems.push_back(who + ": CEF is for syslog sinks");
    }
    if (network && s.spool && s.delivery.spool_dir.empty()) {
      s.delivery.spool_dir = c.spool_root + "/" + s.name;
    }
    if (!network) s.spool = false;
  }
  return problems;
}

}  // namespace llmtap::exporter
