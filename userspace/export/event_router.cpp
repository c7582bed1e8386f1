#include "export/event_router.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "export/file_transport.h"
#include "export/http_transport.h"
#include "export/sink_formatter.h"
#include "export/syslog_transport.h"

namespace llmtap::exporter {
namespace {

std::string first_line_of(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::unique_ptr<Transport> make_transport(const SinkConfig& s, const RouterIdentity& id) {
  switch (s.type) {
    case SinkType::kFile:
      return std::make_unique<FileTransport>(s.file);
    case SinkType::kSyslog: {
      std::string error;
      auto target = parse_syslog_url(s.url, error);
      if (!target) throw std::runtime_error(error);
      target->ca_file = s.ca_file;
      target->client_cert_file = s.client_cert_file;
      target->client_key_file = s.client_key_file;
      target->verify_hostname = !s.insecure_skip_verify;
      SyslogIdentity identity;
      identity.hostname = id.hostname;
      identity.procid = id.procid;
      return std::make_unique<SyslogTransport>(*target, identity);
    }
    case SinkType::kSplunkHec:
    case SinkType::kElastic:
    case SinkType::kWebhook: {
      HttpTarget t;
      t.kind = s.type == SinkType::kSplunkHec ? HttpTarget::Kind::kSplunkHec
               : s.type == SinkType::kElastic ? HttpTarget::Kind::kElasticBulk
                                              : HttpTarget::Kind::kWebhook;
      t.url = s.url;
      t.token = s.token;
      t.token_file = s.token_file;
      t.username = s.username;
      if (!s.password_file.empty()) t.password = first_line_of(s.password_file);
      t.index = s.index;
      t.host_field = id.hostname;
      t.gzip = s.gzip;
      t.ca_file = s.ca_file;
      t.insecure_skip_verify = s.insecure_skip_verify;
      t.headers = s.headers;
      return std::make_unique<HttpTransport>(t);
    }
    case SinkType::kStdout:
      break;
  }
  throw std::logic_error("no transport for stdout");
}

}  // namespace

EventRouter::EventRouter(const ExportConfig& config, const RouterIdentity& identity) {
  for (const SinkConfig& s : config.sinks) {
    if (s.type == SinkType::kStdout) continue;
    try {
      DeliveryOptions options = s.delivery;
      if (!s.spool) options.spool_dir.clear();
      auto formatter = [sink = s](const ExportEvent& e) { return format_for_sink(sink, e); };
      auto queue = std::make_unique<DeliveryQueue>(s.name, make_transport(s, identity),
                                                   std::move(formatter), std::move(options));
      spdlog::info("sink {}: {}{}", s.name, queue->describe(),
                   s.spool ? " (spool " + s.delivery.spool_dir + ")" : "");
      queues_.push_back(std::move(queue));
    } catch (const std::exception& e) {
      throw std::runtime_error("sink " + s.name + ": " + e.what());
    }
  }
}

EventRouter::~EventRouter() { stop(); }

void EventRouter::publish(const SharedEvent& event) {
  for (const auto& q : queues_) q->submit(event);
}

void EventRouter::stop() {
  for (const auto& q : queues_) q->stop();
}

}  // namespace llmtap::exporter
