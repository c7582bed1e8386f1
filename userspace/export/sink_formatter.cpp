#include "export/sink_formatter.h"

#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "export/event_formats.h"

namespace llmtap::exporter {
namespace {

using nlohmann::json;

// The member a dotted path names ("actor.process.cmd_line"), or null when absent.
json* find_path(json& root, const std::string& path) {
  json* at = &root;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = std::min(path.find('.', start), path.size());
    const std::string key = path.substr(start, dot - start);
    if (!at->is_object()) return nullptr;
    const auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
    start = dot + 1;
  }
  return at;
}

void drop_path(json& root, const std::string& path) {
  const size_t dot = path.rfind('.');
  json* parent = dot == std::string::npos ? &root : find_path(root, path.substr(0, dot));
  if (parent != nullptr && parent->is_object()) {
    parent->erase(dot == std::string::npos ? path : path.substr(dot + 1));
  }
}

}  // namespace

bool wanted_by(const SinkFilter& filter, const ExportEvent& event) {
  if (event.severity_id < filter.min_severity) return false;
  return event.kind == EventKind::kLlmCall ? filter.llm_calls : filter.findings;
}

std::string edit_fields(const std::string& text, const SinkFilter& filter) {
  if (!filter.edits_fields()) return text;
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_object()) return text;
  for (const std::string& path : filter.drop_fields) drop_path(doc, path);
  for (const std::string& path : filter.hash_fields) {
    if (json* v = find_path(doc, path)) {
      *v = "sha256:" + sha256_hex(v->is_string() ? v->get<std::string>() : v->dump());
    }
  }
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<OutRecord> format_for_sink(const SinkConfig& sink, const ExportEvent& event) {
  if (!wanted_by(sink.filter, event)) return std::nullopt;
  OutRecord r;
  r.time_ms = event.time_ms;
  r.severity_id = event.severity_id;
  if (sink.format == SinkFormat::kOcsf) {
    r.payload = edit_fields(event.json, sink.filter);
  } else {
    json doc = json::parse(edit_fields(event.json, sink.filter), nullptr, false);
    if (!doc.is_object()) return std::nullopt;
    r.payload = sink.format == SinkFormat::kEcs
                    ? ocsf_to_ecs(doc).dump(-1, ' ', false, json::error_handler_t::replace)
                    : ocsf_to_cef(doc);
  }
  return r;  // syslog framing is the transport's (the spool keeps the bare event)
}

}  // namespace llmtap::exporter
