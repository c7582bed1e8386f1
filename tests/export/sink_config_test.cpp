// Sink configuration (the config file's sinks/spool/metrics sections, checked), what each sink
// keeps of an event (severity, kinds, dropped and hashed fields, formats), and the file sink's
// rotation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "common/yaml_reader.h"
#include "export/file_transport.h"
#include "export/sink_config.h"
#include "export/sink_formatter.h"

namespace llmtap::exporter {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string error_of(const std::string& yaml) {
  try {
    parse_export_config(yaml, "c.yaml");
  } catch (const YamlError& e) {
    return e.what();
  }
  return "";
}

TEST(SinkConfig, ReadsEverySinkKind) {
  ExportConfig c = parse_export_config(R"(
spool: {dir: /var/spool/x, max_bytes: 2GiB}
metrics: {address: "127.0.0.1:9999"}
sinks:
  - type: stdout
    format: ecs
  - name: archive
    type: file
    path: /var/log/llmtap/events.jsonl
    max_file_bytes: 10MiB
    keep: 3
    fsync: batch
  - name: soc
    type: syslog
    url: tls://siem:6514
    format: cef
    min_severity: high
    events: [finding]
  - name: splunk
    type: splunk-hec
    url: https://splunk:8088
    token_file: /etc/t
    hash_fields: [actor.process.cmd_line]
    drop_fields: [device]
    batch_delay_ms: 500
    spool_max_bytes: 64MiB
  - {name: es, type: elastic, url: "https://es:9200", format: ecs, index: ai, spool: false}
  - {name: hook, type: webhook, url: "https://h/x", headers: {X-Team: sec}, gzip: false}
)",
                                       "c.yaml");
  EXPECT_TRUE(finish_export_config(c).empty());
  EXPECT_EQ(c.spool_root, "/var/spool/x");
  EXPECT_EQ(c.spool_budget_bytes, uint64_t{2} << 30);
  EXPECT_EQ(c.metrics_address, "127.0.0.1:9999");
  ASSERT_EQ(c.sinks.size(), 6u);
  EXPECT_EQ(c.sinks[0].type, SinkType::kStdout);
  EXPECT_EQ(c.sinks[0].format, SinkFormat::kEcs);
  EXPECT_EQ(c.sinks[1].file.max_bytes, uint64_t{10} << 20);
  EXPECT_EQ(c.sinks[1].file.keep, 3u);
  EXPECT_EQ(c.sinks[1].file.fsync, FileTarget::Fsync::kBatch);
  EXPECT_FALSE(c.sinks[1].spool) << "a file is its own storage";
  EXPECT_EQ(c.sinks[2].format, SinkFormat::kCef);
  EXPECT_EQ(c.sinks[2].filter.min_severity, 4);
  EXPECT_FALSE(c.sinks[2].filter.llm_calls);
  EXPECT_TRUE(c.sinks[2].filter.findings);
  EXPECT_EQ(c.sinks[2].delivery.spool_dir, "/var/spool/x/soc");
  EXPECT_EQ(c.sinks[2].delivery.spool_budget_bytes, uint64_t{2} << 30);
  EXPECT_EQ(c.sinks[3].filter.hash_fields, std::vector<std::string>{"actor.process.cmd_line"});
  EXPECT_EQ(c.sinks[3].delivery.batch_delay, std::chrono::milliseconds(500));
  EXPECT_EQ(c.sinks[3].delivery.spool_budget_bytes, uint64_t{64} << 20);
  EXPECT_FALSE(c.sinks[4].spool);
  EXPECT_EQ(c.sinks[5].headers.at("X-Team"), "sec");
  EXPECT_FALSE(c.sinks[5].gzip);
}

TEST(SinkConfig, ErrorsNameTheFileLineAndSink) {
  EXPECT_NE(error_of("sinks:\n  - type: kafka\n").find("c.yaml:2:"), std::string::npos);
  EXPECT_NE(error_of("sinks:\n  - type: kafka\n").find("'type' must be"), std::string::npos);
  EXPECT_NE(error_of("sinks:\n  - {type: file, colour: red}\n").find("colour"), std::string::npos);
  EXPECT_NE(error_of("sinks:\n  - {name: s, type: webhook, format: cef}\n")
                .find("sink s: 'format' must be ocsf or ecs"),
            std::string::npos);
  EXPECT_NE(error_of("sinks:\n  - {type: file, min_severity: loud}\n").find("min_severity"),
            std::string::npos);
  EXPECT_NE(error_of("spool: {max_bytes: lots}\n").find("a size such as"), std::string::npos);
  EXPECT_NE(error_of("sinks:\n  - {type: file, events: [calls]}\n").find("llm_call"),
            std::string::npos);
  EXPECT_NE(error_of("unknown_section: 1\n").find("unknown_section"), std::string::npos);
  // Keys other stages own are accepted when named.
  EXPECT_NO_THROW(parse_export_config("mode: audit\n", "c.yaml", {"mode"}));
}

TEST(SinkConfig, ChecksWhatTheParserCannot) {
  ExportConfig c = parse_export_config(R"(
sinks:
  - {type: splunk-hec, url: "https://s"}
  - {type: webhook}
  - {type: file}
  - {name: "../x", type: webhook, url: "https://h"}
  - {name: a, type: webhook, url: "https://h"}
  - {name: a, type: webhook, url: "https://h"}
)",
                                       "c.yaml");
  const auto problems = finish_export_config(c);
  const auto has = [&](const std::string& text) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(has("sink splunk-hec: Splunk HEC needs `token_file`"));
  EXPECT_TRUE(has("sink webhook: needs `url`"));
  EXPECT_TRUE(has("sink file: needs `path`"));
  EXPECT_TRUE(has("sink ../x: a name is letters"));
  EXPECT_TRUE(has("sink a: the name is used twice"));
}

const std::string kEvent =
    R"({"class_uid":4002,"severity_id":1,"time":1700000000000,"metadata":{"uid":"u-1"},)"
    R"("actor":{"process":{"pid":7,"name":"python3","cmd_line":"python3 app.py --key x"}},)"
    R"("device":{"hostname":"node-1"},"unmapped":{"llmtap":{"provider":"openai"}}})";

ExportEvent call_event() {
  ExportEvent e;
  e.json = kEvent;
  e.kind = EventKind::kLlmCall;
  e.severity_id = 1;
  e.time_ms = 1'700'000'000'000ULL;
  return e;
}

TEST(SinkFormatter, FiltersBySeverityAndKind) {
  SinkFilter f;
  ExportEvent e = call_event();
  EXPECT_TRUE(wanted_by(f, e));
  f.min_severity = 3;
  EXPECT_FALSE(wanted_by(f, e));
  e.severity_id = 4;
  e.kind = EventKind::kFinding;
  EXPECT_TRUE(wanted_by(f, e));
  f.findings = false;
  EXPECT_FALSE(wanted_by(f, e));
}

TEST(SinkFormatter, DropsAndHashesFields) {
  SinkFilter f;
  EXPECT_EQ(edit_fields(kEvent, f), kEvent) << "nothing to edit: the same text";
  f.drop_fields = {"device", "unmapped.llmtap.provider", "no.such.field"};
  f.hash_fields = {"actor.process.cmd_line", "actor.process.pid"};
  const json j = json::parse(edit_fields(kEvent, f));
  EXPECT_FALSE(j.contains("device"));
  EXPECT_FALSE(j["unmapped"]["llmtap"].contains("provider"));
  EXPECT_EQ(j["actor"]["process"]["cmd_line"], "sha256:" + sha256_hex("python3 app.py --key x"));
  EXPECT_EQ(j["actor"]["process"]["pid"], "sha256:" + sha256_hex("7"));
  EXPECT_EQ(j["actor"]["process"]["name"], "python3");
}

TEST(SinkFormatter, FormatsOcsfEcsAndCef) {
  SinkConfig s;
  s.type = SinkType::kWebhook;
  const auto ocsf = format_for_sink(s, call_event());
  ASSERT_TRUE(ocsf);
  EXPECT_EQ(ocsf->payload, kEvent);
  EXPECT_EQ(ocsf->time_ms, 1'700'000'000'000ULL);
  s.format = SinkFormat::kEcs;
  const json ecs = json::parse(format_for_sink(s, call_event())->payload);
  EXPECT_EQ(ecs["event"]["id"], "u-1");
  EXPECT_EQ(ecs["process"]["pid"], 7);
  s.type = SinkType::kSyslog;
  s.format = SinkFormat::kCef;
  const std::string cef = format_for_sink(s, call_event())->payload;
  EXPECT_EQ(cef.rfind("CEF:0|llmtap|llmtap|", 0), 0u) << cef;
  EXPECT_NE(cef.find("externalId=u-1"), std::string::npos) << cef;
  s.filter.min_severity = 2;
  EXPECT_FALSE(format_for_sink(s, call_event()));
}

class FileTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/llmtap-file-sink-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::vector<OutRecord> records(int from, int to) {
    std::vector<OutRecord> out;
    for (int i = from; i < to; ++i) out.push_back({0, 1, "{\"n\":" + std::to_string(i) + "}"});
    return out;
  }
  static std::vector<std::string> lines(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  fs::path dir_;
};

TEST_F(FileTransportTest, RotatesBySizeKeepingTheNewestFiles) {
  FileTarget t;
  t.path = (dir_ / "events.jsonl").string();
  t.max_bytes = 100;  // about 12 lines of 8 bytes
  t.keep = 2;
  t.fsync = FileTarget::Fsync::kBatch;
  FileTransport file(t);
  for (int i = 0; i < 60; i += 5) {
    const auto batch = records(i, i + 5);
    ASSERT_EQ(file.send(batch).kind, SendResult::Kind::kSent);
  }
  EXPECT_GE(file.rotations(), 3u);
  EXPECT_TRUE(fs::exists(t.path + ".1"));
  EXPECT_TRUE(fs::exists(t.path + ".2"));
  EXPECT_FALSE(fs::exists(t.path + ".3")) << "only `keep` old files";
  // Whole lines everywhere, none over the size, and the newest last.
  for (const std::string& p : {t.path, t.path + ".1", t.path + ".2"}) {
    EXPECT_LE(fs::file_size(p), 100u) << p;
    for (const auto& l : lines(p)) EXPECT_TRUE(json::accept(l)) << p << ": " << l;
  }
  EXPECT_EQ(lines(t.path).back(), "{\"n\":59}");
  EXPECT_EQ(json::parse(lines(t.path + ".1").back())["n"].get<int>() + 1,
            json::parse(lines(t.path).front())["n"].get<int>());
}

TEST_F(FileTransportTest, KeepZeroTruncatesAndAnUnwritablePathIsAClearError) {
  FileTarget t;
  t.path = (dir_ / "e.jsonl").string();
  t.max_bytes = 50;
  t.keep = 0;
  FileTransport file(t);
  for (int i = 0; i < 30; i += 3) {
    const auto batch = records(i, i + 3);
    file.send(batch);
  }
  EXPECT_FALSE(fs::exists(t.path + ".1"));
  EXPECT_LE(fs::file_size(t.path), 50u);
  FileTarget bad;
  bad.path = "/proc/llmtap-no/e.jsonl";
  EXPECT_THROW(FileTransport{bad}, std::runtime_error);
}

}  // namespace
}  // namespace llmtap::exporter
