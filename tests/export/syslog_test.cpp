// Syslog delivery: RFC 5424 formatting byte for byte, syslog URLs, and SyslogTransport against a
// real rsyslogd (Debian's rsyslog, rsyslog-gnutls) over UDP, TCP and TLS: 200 records each,
// multi-line messages kept whole by octet counting, a receiver restart, a wrong CA, a closed
// port, a receiver that stops reading, mutual TLS.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "export/syslog_message.h"
#include "export/syslog_transport.h"
#include "self_signed_certificate.h"

extern char** environ;

namespace llmtap::exporter {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Protocol = SyslogTarget::Protocol;
using Kind = SendResult::Kind;

// 2023-11-14T22:13:20.123Z
constexpr uint64_t kTimeMs = 1'700'000'000'123;

SyslogIdentity node_identity() {
  SyslogIdentity id;
  id.hostname = "node-a";
  id.procid = "4242";
  return id;
}

// ---- format_rfc5424 ----

TEST(SyslogMessage, HeaderFieldsAndPayload) {
  const OutRecord r{kTimeMs, 4, R"({"class_uid":2004})"};
  EXPECT_EQ(format_rfc5424(r, node_identity()),
            R"(<35>1 2023-11-14T22:13:20.123Z node-a llmtap 4242 ocsf - {"class_uid":2004})");
}

TEST(SyslogMessage, PriIsFacilityTimesEightPlusSeverity) {
  SyslogIdentity id = node_identity();
  id.facility = 23;
  EXPECT_EQ(format_rfc5424({kTimeMs, 6, "x"}, id).substr(0, 7), "<185>1 ");  // 23*8 + 1 Alert
  id.facility = 0;
  EXPECT_EQ(format_rfc5424({kTimeMs, 0, "x"}, id).substr(0, 5), "<6>1 ");  // kern, Informational
  id.facility = 24;  // out of range: the default facility, 4
  EXPECT_EQ(format_rfc5424({kTimeMs, 5, "x"}, id).substr(0, 6), "<34>1 ");
  id.facility = -1;
  EXPECT_EQ(format_rfc5424({kTimeMs, 3, "x"}, id).substr(0, 6), "<36>1 ");
}

TEST(SyslogMessage, SeverityTable) {
  const std::map<int, int> expected = {{0, 6}, {1, 6}, {2, 5}, {3, 4},  {4, 3},
                                       {5, 2}, {6, 1}, {7, 6}, {99, 6}, {255, 6}};
  for (const auto& [ocsf, syslog] : expected) {
    EXPECT_EQ(syslog_severity(static_cast<uint8_t>(ocsf)), syslog) << "OCSF " << ocsf;
  }
}

TEST(SyslogMessage, TimestampKeepsMillisecondsInUtc) {
  const SyslogIdentity id = node_identity();
  EXPECT_EQ(format_rfc5424({86'400'005, 1, "x"}, id),
            "<38>1 1970-01-02T00:00:00.005Z node-a llmtap 4242 ocsf - x");
  EXPECT_EQ(format_rfc5424({1'709'251'199'999, 1, "x"}, id).substr(6, 24),
            "2024-02-29T23:59:59.999Z");
}

TEST(SyslogMessage, EmptyFieldsAreNilValue) {
  SyslogIdentity id;
  id.app_name.clear();
  id.msgid.clear();
  EXPECT_EQ(format_rfc5424({0, 1, "{}"}, id), "<38>1 - - - - - - {}");
  // No payload: no trailing space.
  EXPECT_EQ(format_rfc5424({kTimeMs, 1, ""}, node_identity()),
            "<38>1 2023-11-14T22:13:20.123Z node-a llmtap 4242 ocsf -");
}

TEST(SyslogMessage, HeaderCharactersOutsidePrintableAsciiAreReplaced) {
  SyslogIdentity id;
  id.hostname = "node a\tb";
  id.app_name = "llm tap";
  id.procid = "p\xc3\xbcid";      // one UTF-8 sequence: one '_'
  id.msgid = "\xe2\x82\xac-x\n";  // three-byte sequence, then a control character
  EXPECT_EQ(format_rfc5424({kTimeMs, 1, "caf\xc3\xa9 \n ok"}, id),
            "<38>1 2023-11-14T22:13:20.123Z node_a_b llm_tap p_id _-x_ - caf\xc3\xa9 \n ok");
}

TEST(SyslogMessage, HeaderFieldsAreCutToRfcLengths) {
  SyslogIdentity id;
  id.hostname = std::string(300, 'h');
  id.app_name = std::string(60, 'a');
  id.procid = std::string(200, 'p');
  id.msgid = std::string(40, 'm');
  const std::string expected = "<38>1 2023-11-14T22:13:20.123Z " + std::string(255, 'h') + " " +
                               std::string(48, 'a') + " " + std::string(128, 'p') + " " +
                               std::string(32, 'm') + " - x";
  EXPECT_EQ(format_rfc5424({kTimeMs, 1, "x"}, id), expected);
}

// ---- parse_syslog_url ----

TEST(SyslogUrl, Accepted) {
  struct Case {
    const char* url;
    Protocol protocol;
    const char* host;
    uint16_t port;
  };
  const Case cases[] = {
      {"udp://syslog.example.com", Protocol::kUdp, "syslog.example.com", 514},
      {"tcp://10.0.0.1:1514", Protocol::kTcp, "10.0.0.1", 1514},
      {"tls://siem-collector_1.corp", Protocol::kTls, "siem-collector_1.corp", 6514},
      {"tls://[::1]:16514", Protocol::kTls, "::1", 16514},
      {"tcp://[2001:db8::5]", Protocol::kTcp, "2001:db8::5", 514},
      {"TLS://Collector:6514/", Protocol::kTls, "Collector", 6514},
      {"udp://h:65535", Protocol::kUdp, "h", 65535},
  };
  for (const Case& c : cases) {
    std::string error;
    const auto target = parse_syslog_url(c.url, error);
    ASSERT_TRUE(target) << c.url << ": " << error;
    EXPECT_EQ(target->protocol, c.protocol) << c.url;
    EXPECT_EQ(target->host, c.host) << c.url;
    EXPECT_EQ(target->port, c.port) << c.url;
    EXPECT_TRUE(target->verify_hostname);
    EXPECT_TRUE(target->ca_file.empty());
  }
  std::string error;
  EXPECT_EQ(syslog_url(*parse_syslog_url("tls://[::1]", error)), "tls://[::1]:6514");
  EXPECT_EQ(syslog_url(*parse_syslog_url("udp://h", error)), "udp://h:514");
}

TEST(SyslogUrl, Rejected) {
  const char* const urls[] = {
      "",
      "syslog.example.com:514",
      "http://h:514",
      "tcp://",
      "tcp://:514",
      "tcp://h:",
      "tcp://h:0",
      "tcp://h:65536",
      "tcp://h:51a",
      "tcp://h:-1",
      "tcp://h:+1",
      "tcp://::1:514",
      "tcp://[::1",
      "tcp://[::1]514",
      "tcp://[not-v6]:514",
      "tcp://[]:514",
      "tcp://h/path",
      "tcp://h:514?x=1",
      "tcp://h#x",
      "tcp://bad host:514",
      "tcp://user:hunter2@h:514",
  };
  for (const char* url : urls) {
    std::string error;
    EXPECT_FALSE(parse_syslog_url(url, error)) << url;
    EXPECT_FALSE(error.empty()) << url;
    EXPECT_EQ(error.find("hunter2"), std::string::npos) << "error repeats a password: " << error;
  }
}

TEST(SyslogTransportConfig, RejectsTargetsThatCannotWork) {
  SyslogTarget target;
  target.protocol = Protocol::kTcp;
  target.port = 514;
  EXPECT_THROW(SyslogTransport(target, node_identity()), std::invalid_argument);  // no host
  target.host = "127.0.0.1";
  target.protocol = Protocol::kUdp;
  target.max_datagram_bytes = 100;
  EXPECT_THROW(SyslogTransport(target, node_identity()), std::invalid_argument);
  target.max_datagram_bytes = 70000;
  EXPECT_THROW(SyslogTransport(target, node_identity()), std::invalid_argument);
  target.protocol = Protocol::kTls;
  target.ca_file = "/nonexistent/ca.pem";
  try {
    SyslogTransport transport(target, node_identity());
    ADD_FAILURE() << "a CA file that does not load was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.pem"), std::string::npos) << e.what();
  }
  target.ca_file.clear();
  target.client_cert_file = "/nonexistent/client.pem";  // and no key
  EXPECT_THROW(SyslogTransport(target, node_identity()), std::invalid_argument);

  target.client_cert_file.clear();
  SyslogTransport transport(target, node_identity());
  EXPECT_EQ(transport.describe(), "syslog tls://127.0.0.1:514");
}

// ---- a real rsyslogd ----

bool rsyslog_required() {
  const char* v = std::getenv("LLMTAP_REQUIRE_BPF");  // CI: every check must run
  return v != nullptr && std::strcmp(v, "1") == 0;
}

std::string find_rsyslogd() {
  for (const char* path : {"/usr/sbin/rsyslogd", "/sbin/rsyslogd"}) {
    if (access(path, X_OK) == 0) return path;
  }
  const char* path_env = std::getenv("PATH");
  std::stringstream dirs(path_env != nullptr ? path_env : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = dir + "/rsyslogd";
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

uint16_t bound_port(int fd) {
  sockaddr_in addr{};
  socklen_t length = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  return ntohs(addr.sin_port);
}

// A port on 127.0.0.1 that nothing listens on right now (the kernel's pick).
uint16_t free_port(int type) {
  const Fd fd(socket(AF_INET, type, 0));
  sockaddr_in addr = loopback(0);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    throw std::runtime_error("bind: " + std::string(std::strerror(errno)));
  }
  return bound_port(fd.get());
}

bool tcp_accepts(uint16_t port) {
  const Fd fd(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr = loopback(port);
  return connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

// imudp has no handshake to probe: look for its socket in the kernel's table instead.
bool udp_bound(uint16_t port) {
  std::ifstream table("/proc/net/udp");
  char local[32];
  std::snprintf(local, sizeof(local), "0100007F:%04X", port);
  for (std::string line; std::getline(table, line);) {
    if (line.find(local) != std::string::npos) return true;
  }
  return false;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// What rsyslog wrote for one message: the header as it parsed it, and MSG.
struct Received {
  int pri = -1;
  int severity = -1;
  std::string hostname, app_name, procid, msgid, time, msg;
};

// One rsyslogd of our own in a temporary directory: UDP, plain TCP and TLS (server-only auth)
// listeners on 127.0.0.1, a TLS listener that requires a client certificate, and every message
// written as one JSON line.
class Rsyslog {
 public:
  explicit Rsyslog(std::string binary) : binary_(std::move(binary)) {
    char pattern[] = "/tmp/llmtap-syslog-XXXXXX";
    if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    fs::create_directory(dir_ / "work");
    testing::write_self_signed_certificate(path("server.pem"), path("server.key"));
    testing::write_self_signed_certificate(path("client.pem"), path("client.key"));
  }
  ~Rsyslog() {
    stop();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  Rsyslog(const Rsyslog&) = delete;
  Rsyslog& operator=(const Rsyslog&) = delete;

  std::string path(const char* name) const { return (dir_ / name).string(); }
  uint16_t udp_port() const { return udp_port_; }
  uint16_t tcp_port() const { return tcp_port_; }
  uint16_t tls_port() const { return tls_port_; }
  uint16_t mtls_port() const { return mtls_port_; }

  // First start: fresh ports (tried again should another process take one meanwhile).
  void start() {
    std::string why;
    for (int attempt = 0; attempt < 3; ++attempt) {
      udp_port_ = free_port(SOCK_DGRAM);
      tcp_port_ = free_port(SOCK_STREAM);
      tls_port_ = free_port(SOCK_STREAM);
      mtls_port_ = free_port(SOCK_STREAM);
      if (tcp_port_ == tls_port_ || tls_port_ == mtls_port_ || tcp_port_ == mtls_port_) continue;
      if (launch(why)) return;
    }
    throw std::runtime_error("rsyslogd did not start: " + why + "\n" + log());
  }

  // Again on the same ports, as a restarted receiver would be.
  void restart() {
    std::string why;
    if (!launch(why)) throw std::runtime_error("rsyslogd did not restart: " + why + "\n" + log());
  }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    if (!eventually([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, 5s)) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

  std::vector<Received> received() const {
    std::vector<Received> out;
    const std::string text = read_file(dir_ / "received.jsonl");
    // Only whole lines: omfile may be halfway through writing a long one.
    for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos;
         start = end + 1) {
      const std::string line = text.substr(start, end - start);
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) {
        ADD_FAILURE() << "rsyslog wrote a line that is not JSON: " << line;
        continue;
      }
      Received r;
      r.pri = std::stoi(j.at("pri").get<std::string>());
      r.severity = std::stoi(j.at("severity").get<std::string>());
      r.hostname = j.at("hostname");
      r.app_name = j.at("app");
      r.procid = j.at("procid");
      r.msgid = j.at("msgid");
      r.time = j.at("time");
      r.msg = j.at("msg");
      out.push_back(std::move(r));
    }
    return out;
  }

  // Waits until rsyslog has written at least `count` messages; returns them.
  std::vector<Received> wait_for(size_t count, std::chrono::milliseconds timeout = 20s) const {
    std::vector<Received> got;
    eventually(
        [&] {
          got = received();
          return got.size() >= count;
        },
        timeout);
    return got;
  }

  std::string log() const {
    return "rsyslogd's own messages:\n" + read_file(dir_ / "rsyslogd.log");
  }

 private:
  void write_config() const {
    std::ofstream conf(dir_ / "rsyslog.conf");
    // maxMessageSize first: it must be set before any input loads. Control characters are
    // kept as sent, so a newline inside MSG reaches the file (JSON-escaped) as a newline.
    conf << "global(workDirectory=\"" << path("work") << "\" maxMessageSize=\"256k\"\n"
         << "  parser.escapeControlCharactersOnReceive=\"off\"\n"
         << "  DefaultNetstreamDriverCAFile=\"" << path("client.pem") << "\"\n"
         << "  DefaultNetstreamDriverCertFile=\"" << path("server.pem") << "\"\n"
         << "  DefaultNetstreamDriverKeyFile=\"" << path("server.key") << "\")\n"
         << "module(load=\"imudp\")\n"
         // One imtcp load for both: TLS is its default driver, the plain input overrides it.
         << "module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\"\n"
         << "  StreamDriver.AuthMode=\"anon\")\n"
         << R"(template(name="received" type="string" string="{\"pri\":\"%pri%\",)"
         << R"(\"severity\":\"%syslogseverity%\",\"hostname\":\"%hostname:::json%\",)"
         << R"(\"app\":\"%app-name:::json%\",\"procid\":\"%procid:::json%\",)"
         << R"(\"msgid\":\"%msgid:::json%\",\"time\":\"%timereported:::date-rfc3339,json%\",)"
         << R"(\"msg\":\"%msg:::json%\"}\n"))"
         << "\n"
         << "ruleset(name=\"received\") {\n"
         << "  action(type=\"omfile\" file=\"" << path("received.jsonl")
         << "\" template=\"received\")\n}\n"
         // A large receive buffer: a burst of datagrams must not outrun rsyslog's reader.
         << "input(type=\"imudp\" address=\"127.0.0.1\" port=\"" << udp_port_
         << "\" rcvBufSize=\"4m\" ruleset=\"received\")\n"
         << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << tcp_port_
         << "\" StreamDriver.Name=\"ptcp\" StreamDriver.Mode=\"0\""
         << " SupportOctetCountedFraming=\"on\" ruleset=\"received\")\n"
         << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << tls_port_
         << "\" SupportOctetCountedFraming=\"on\" ruleset=\"received\")\n"
         // The client must show a certificate the CA file (client.pem, self-signed) vouches for.
         << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << mtls_port_
         << "\" StreamDriver.AuthMode=\"x509/certvalid\""
         << " SupportOctetCountedFraming=\"on\" ruleset=\"received\")\n";
  }

  bool launch(std::string& why) {
    write_config();
    const std::string conf = path("rsyslog.conf");
    const std::string pidfile = path("rsyslogd.pid");
    const std::string logfile = path("rsyslogd.log");
    std::vector<const char*> argv = {binary_.c_str(), "-n",   "-f", conf.c_str(), "-i",
                                     pidfile.c_str(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, logfile.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int rc = posix_spawn(&pid_, binary_.c_str(), &actions, nullptr,
                               const_cast<char* const*>(argv.data()), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      why = "posix_spawn: " + std::string(std::strerror(rc));
      return false;
    }
    // GnuTLS's start-up alone takes rsyslogd a few seconds on a slow machine.
    bool exited = false;
    const bool ready = eventually(
        [&] {
          int status = 0;
          if (waitpid(pid_, &status, WNOHANG) == pid_) {
            exited = true;
            return true;
          }
          return tcp_accepts(tcp_port_) && tcp_accepts(tls_port_) && tcp_accepts(mtls_port_) &&
                 udp_bound(udp_port_);
        },
        30s);
    if (exited) {
      pid_ = -1;
      why = "rsyslogd exited";
      return false;
    }
    if (!ready) {
      stop();
      why = "its ports did not open";
      return false;
    }
    return true;
  }

  std::string binary_;
  fs::path dir_;
  pid_t pid_ = -1;
  uint16_t udp_port_ = 0, tcp_port_ = 0, tls_port_ = 0, mtls_port_ = 0;
};

std::string protocol_name(Protocol p) {
  return p == Protocol::kUdp ? "Udp" : p == Protocol::kTcp ? "Tcp" : "Tls";
}

// A record with a JSON payload that says which one it is.
OutRecord json_record(int seq) {
  nlohmann::json payload = {
      {"class_uid", 2004},
      {"seq", seq},
      {"message", "record " + std::to_string(seq) + " caf\xc3\xa9 \"quoted\" back\\slash"},
      {"padding", std::string(static_cast<size_t>(seq % 50) * 7, 'x')}};
  return {kTimeMs + static_cast<uint64_t>(seq), static_cast<uint8_t>(seq % 7), payload.dump()};
}

class RsyslogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string binary = find_rsyslogd();
    if (binary.empty()) {
      if (rsyslog_required()) {
        FAIL() << "rsyslogd is not installed (apt-get install rsyslog rsyslog-gnutls) and "
                  "LLMTAP_REQUIRE_BPF=1 requires every check to run";
      }
      GTEST_SKIP() << "rsyslogd is not installed (apt-get install rsyslog rsyslog-gnutls)";
    }
    rsyslog_ = std::make_unique<Rsyslog>(binary);
    rsyslog_->start();
  }

  void TearDown() override {
    if (rsyslog_ && HasFailure()) std::cerr << rsyslog_->log() << "\n";
    rsyslog_.reset();  // stops rsyslogd, removes its directory
  }

  SyslogTarget target(Protocol protocol) const {
    SyslogTarget t;
    t.protocol = protocol;
    t.host = "127.0.0.1";
    t.port = protocol == Protocol::kUdp   ? rsyslog_->udp_port()
             : protocol == Protocol::kTcp ? rsyslog_->tcp_port()
                                          : rsyslog_->tls_port();
    t.ca_file = rsyslog_->path("server.pem");
    return t;
  }

  std::unique_ptr<Rsyslog> rsyslog_;
};

class RsyslogEachProtocol : public RsyslogTest, public ::testing::WithParamInterface<Protocol> {};
class RsyslogStream : public RsyslogTest, public ::testing::WithParamInterface<Protocol> {};

TEST_P(RsyslogEachProtocol, TwoHundredRecordsArriveWhole) {
  SyslogTransport transport(target(GetParam()), node_identity());
  std::vector<OutRecord> records;
  for (int seq = 0; seq < 200; ++seq) records.push_back(json_record(seq));
  for (size_t first = 0; first < records.size(); first += 50) {
    const SendResult result = transport.send(std::span(records).subspan(first, 50));
    ASSERT_EQ(result.kind, Kind::kSent) << result.error;
    // UDP has no flow control: pace the batches as a delivery queue's rate would.
    if (GetParam() == Protocol::kUdp) rsyslog_->wait_for(first + 50);
  }

  const std::vector<Received> got = rsyslog_->wait_for(records.size());
  ASSERT_EQ(got.size(), records.size());
  std::map<int, const Received*> by_seq;
  for (const Received& r : got) {
    const auto payload = nlohmann::json::parse(r.msg, nullptr, false);
    ASSERT_FALSE(payload.is_discarded()) << "MSG is not the JSON sent: " << r.msg;
    by_seq[payload.at("seq").get<int>()] = &r;
  }
  ASSERT_EQ(by_seq.size(), records.size()) << "some records arrived twice, some never";
  for (int seq = 0; seq < 200; ++seq) {
    const OutRecord& sent = records[static_cast<size_t>(seq)];
    const Received& r = *by_seq.at(seq);
    EXPECT_EQ(nlohmann::json::parse(r.msg), nlohmann::json::parse(sent.payload));
    EXPECT_EQ(r.msg, sent.payload);  // byte for byte, too
    EXPECT_EQ(r.severity, syslog_severity(sent.severity_id)) << seq;
    EXPECT_EQ(r.pri, kSyslogFacilitySecurity * 8 + syslog_severity(sent.severity_id));
    EXPECT_EQ(r.hostname, "node-a");
    EXPECT_EQ(r.app_name, "llmtap");
    EXPECT_EQ(r.procid, "4242");
    EXPECT_EQ(r.msgid, "ocsf");
    char millis[8];
    std::snprintf(millis, sizeof(millis), ".%03d", 123 + seq);
    EXPECT_EQ(r.time.substr(0, 19), "2023-11-14T22:13:20") << r.time;
    EXPECT_NE(r.time.find(millis), std::string::npos) << r.time;
  }
  EXPECT_EQ(transport.truncated_records(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Syslog, RsyslogEachProtocol,
                         ::testing::Values(Protocol::kUdp, Protocol::kTcp, Protocol::kTls),
                         [](const auto& info) { return protocol_name(info.param); });

// Octet counting: a newline inside MSG is not the end of the message.
TEST_P(RsyslogStream, MultiLinePayloadStaysOneMessage) {
  SyslogTransport transport(target(GetParam()), node_identity());
  const std::vector<OutRecord> records = {
      {kTimeMs, 3, "first line\nsecond line\n  third line\n{\"not\": \"a new message\"}"},
      json_record(7),
  };
  const SendResult result = transport.send(records);
  ASSERT_EQ(result.kind, Kind::kSent) << result.error;
  const std::vector<Received> got = rsyslog_->wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].msg, records[0].payload);
  EXPECT_EQ(got[0].severity, 4);
  EXPECT_EQ(got[1].msg, records[1].payload);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(rsyslog_->received().size(), 2u) << "a line of the payload became a message";
}

// Over TCP a record is not cut, up to the receiver's own limits (rsyslog: maxMessageSize, 8 KiB
// by default, 256 KiB here; imtcp's MaxFrameSize, 200000).
TEST_P(RsyslogStream, LargeRecordArrivesWhole) {
  SyslogTransport transport(target(GetParam()), node_identity());
  const std::vector<OutRecord> records = {
      {kTimeMs, 1, nlohmann::json{{"big", std::string(150'000, 'b')}}.dump()}};
  const SendResult result = transport.send(records);
  ASSERT_EQ(result.kind, Kind::kSent) << result.error;
  const std::vector<Received> got = rsyslog_->wait_for(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].msg, records[0].payload);
}

// The receiver goes away between batches: the transport notices the closed connection rather
// than losing a batch into it, reports a retry while nobody listens, and reconnects.
TEST_P(RsyslogStream, ReceiverRestart) {
  SyslogTransport transport(target(GetParam()), node_identity());
  std::vector<OutRecord> first, second;
  for (int seq = 0; seq < 10; ++seq) first.push_back(json_record(seq));
  for (int seq = 10; seq < 20; ++seq) second.push_back(json_record(seq));
  SendResult result = transport.send(first);
  ASSERT_EQ(result.kind, Kind::kSent) << result.error;
  ASSERT_EQ(rsyslog_->wait_for(10).size(), 10u);

  rsyslog_->stop();
  result = transport.send(second);
  EXPECT_EQ(result.kind, Kind::kRetry);
  EXPECT_NE(result.error.find("refused"), std::string::npos) << result.error;

  rsyslog_->restart();
  result = transport.send(second);
  ASSERT_EQ(result.kind, Kind::kSent) << result.error;
  const std::vector<Received> got = rsyslog_->wait_for(20);
  ASSERT_EQ(got.size(), 20u);
  for (int seq = 0; seq < 20; ++seq) {
    EXPECT_EQ(nlohmann::json::parse(got[static_cast<size_t>(seq)].msg).at("seq"), seq);
  }
}

INSTANTIATE_TEST_SUITE_P(Syslog, RsyslogStream, ::testing::Values(Protocol::kTcp, Protocol::kTls),
                         [](const auto& info) { return protocol_name(info.param); });

TEST_F(RsyslogTest, UdpCutsOversizedRecords) {
  SyslogTarget t = target(Protocol::kUdp);
  t.max_datagram_bytes = 2000;
  SyslogTransport transport(t, node_identity());
  // Multi-byte characters across the cut: it never splits one.
  std::string payload;
  while (payload.size() < 5000) payload += "\xe2\x82\xac";
  const std::vector<OutRecord> records = {{kTimeMs, 1, payload}, json_record(1)};
  const SendResult result = transport.send(records);
  ASSERT_EQ(result.kind, Kind::kSent) << result.error;
  EXPECT_EQ(transport.truncated_records(), 1u);
  const std::vector<Received> got = rsyslog_->wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  const std::string header = format_rfc5424({kTimeMs, 1, ""}, node_identity()) + " ";
  const size_t kept = got[0].msg.size();
  EXPECT_LE(header.size() + kept, 2000u);
  EXPECT_GT(header.size() + kept, 2000u - 3);
  EXPECT_EQ(kept % 3, 0u) << "a UTF-8 sequence was split";
  EXPECT_EQ(got[0].msg, payload.substr(0, kept));
  EXPECT_EQ(got[1].msg, records[1].payload);
}

TEST_F(RsyslogTest, TlsWithWrongCaIsRetriedWithReason) {
  testing::write_self_signed_certificate(rsyslog_->path("other.pem"), rsyslog_->path("other.key"));
  SyslogTarget t = target(Protocol::kTls);
  t.ca_file = rsyslog_->path("other.pem");
  SyslogTransport transport(t, node_identity());
  const SendResult result = transport.send(std::vector<OutRecord>{json_record(1)});
  EXPECT_EQ(result.kind, Kind::kRetry);
  EXPECT_NE(result.error.find("certificate verify failed"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("127.0.0.1:" + std::to_string(t.port)), std::string::npos)
      << result.error;
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(rsyslog_->received().empty());
}

TEST_F(RsyslogTest, TlsHostNameMustMatchCertificate) {
  // The certificate names localhost and 127.0.0.1; "localhost" may resolve to ::1 first, where
  // nothing listens, and the transport goes on to the next address.
  // A bare system (a fresh chroot) may have no /etc/hosts: then the name is checked by the
  // certificate's IP address entry instead (127.0.0.1), as every other TLS test here does.
  SyslogTarget t = target(Protocol::kTls);
  addrinfo* found = nullptr;
  const bool localhost_resolves = getaddrinfo("localhost", nullptr, nullptr, &found) == 0;
  if (found != nullptr) freeaddrinfo(found);
  t.host = localhost_resolves ? "localhost" : "127.0.0.1";
  SyslogTransport by_name(t, node_identity());
  SendResult result = by_name.send(std::vector<OutRecord>{json_record(1)});
  ASSERT_EQ(result.kind, Kind::kSent) << result.error;
  ASSERT_EQ(rsyslog_->wait_for(1).size(), 1u);

  // The same listener through an address the certificate does not list (IPv4-mapped IPv6).
  t.host = "::ffff:127.0.0.1";
  SyslogTransport by_other_address(t, node_identity());
  result = by_other_address.send(std::vector<OutRecord>{json_record(2)});
  EXPECT_EQ(result.kind, Kind::kRetry);
  EXPECT_NE(result.error.find("certificate verify failed"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("mismatch"), std::string::npos) << result.error;

  // Without the name check the chain alone decides.
  t.verify_hostname = false;
  SyslogTransport chain_only(t, node_identity());
  result = chain_only.send(std::vector<OutRecord>{json_record(3)});
  ASSERT_EQ(result.kind, Kind::kSent) << result.error;
  EXPECT_EQ(rsyslog_->wait_for(2).size(), 2u);
}

TEST_F(RsyslogTest, MutualTlsPresentsClientCertificate) {
  SyslogTarget t = target(Protocol::kTls);
  t.port = rsyslog_->mtls_port();
  t.client_cert_file = rsyslog_->path("client.pem");
  t.client_key_file = rsyslog_->path("client.key");
  SyslogTransport transport(t, node_identity());
  const SendResult result = transport.send(std::vector<OutRecord>{json_record(3)});
  ASSERT_EQ(result.kind, Kind::kSent) << result.error;
  const std::vector<Received> got = rsyslog_->wait_for(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].msg, json_record(3).payload);
}

// ---- no receiver, or one that stops reading ----

TEST(SyslogTransportFailures, ClosedPortIsRetriedQuickly) {
  for (const Protocol protocol : {Protocol::kTcp, Protocol::kTls}) {
    SyslogTarget t;
    t.protocol = protocol;
    t.host = "127.0.0.1";
    t.port = free_port(SOCK_STREAM);
    SyslogTransport transport(t, node_identity());
    const auto start = Clock::now();
    const SendResult result = transport.send(std::vector<OutRecord>{json_record(1)});
    EXPECT_EQ(result.kind, Kind::kRetry);
    EXPECT_NE(result.error.find("Connection refused"), std::string::npos) << result.error;
    EXPECT_LT(Clock::now() - start, 1s);
  }
}

// UDP has no connection, but the kernel passes on the ICMP "port unreachable" of a datagram to
// the next send on a connected socket.
TEST(SyslogTransportFailures, UdpClosedPortIsSeenOnALaterSend) {
  SyslogTarget t;
  t.protocol = Protocol::kUdp;
  t.host = "127.0.0.1";
  t.port = free_port(SOCK_DGRAM);
  SyslogTransport transport(t, node_identity());
  bool refused = false;
  for (int i = 0; i < 50 && !refused; ++i) {
    const SendResult result = transport.send(std::vector<OutRecord>{json_record(i)});
    refused = result.kind == Kind::kRetry;
    if (refused) {
      EXPECT_NE(result.error.find("refused"), std::string::npos) << result.error;
    }
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(refused);
}

TEST(SyslogTransportFailures, UnresolvableHostIsRetried) {
  SyslogTarget t;
  t.protocol = Protocol::kTcp;
  t.host = "no-such-host.invalid";
  t.port = 514;
  SyslogTransport transport(t, node_identity());
  const SendResult result = transport.send(std::vector<OutRecord>{json_record(1)});
  EXPECT_EQ(result.kind, Kind::kRetry);
  EXPECT_NE(result.error.find("no-such-host.invalid"), std::string::npos) << result.error;
}

// A listener that never accepts: the kernel completes the TCP handshake and buffers a few MB,
// then nothing moves. Neither a TLS handshake nor a write may wait for ever.
class StuckReceiver : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(listener_.get(), 0);
    sockaddr_in addr = loopback(0);
    ASSERT_EQ(bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(listen(listener_.get(), 8), 0);
    port_ = bound_port(listener_.get());
  }
  Fd listener_{socket(AF_INET, SOCK_STREAM, 0)};
  uint16_t port_ = 0;
};

TEST_F(StuckReceiver, WriteTimesOut) {
  SyslogTarget t;
  t.protocol = Protocol::kTcp;
  t.host = "127.0.0.1";
  t.port = port_;
  t.write_timeout = 300ms;
  SyslogTransport transport(t, node_identity());
  const std::vector<OutRecord> batch(16, OutRecord{kTimeMs, 1, std::string(256 * 1024, 'z')});
  SendResult result;
  auto last_send = Clock::duration{};
  for (int i = 0; i < 100 && result.kind == Kind::kSent; ++i) {
    const auto start = Clock::now();
    result = transport.send(batch);
    last_send = Clock::now() - start;
  }
  ASSERT_EQ(result.kind, Kind::kRetry) << "100 batches of 4 MiB went into a socket never read";
  EXPECT_NE(result.error.find("timed out"), std::string::npos) << result.error;
  EXPECT_LT(last_send, 3s);
}

TEST_F(StuckReceiver, TlsHandshakeTimesOut) {
  SyslogTarget t;
  t.protocol = Protocol::kTls;
  t.host = "127.0.0.1";
  t.port = port_;
  t.connect_timeout = 300ms;
  SyslogTransport transport(t, node_identity());
  const auto start = Clock::now();
  const SendResult result = transport.send(std::vector<OutRecord>{json_record(1)});
  EXPECT_EQ(result.kind, Kind::kRetry);
  EXPECT_NE(result.error.find("TLS handshake"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("timed out"), std::string::npos) << result.error;
  EXPECT_LT(Clock::now() - start, 2s);
}

}  // namespace
}  // namespace llmtap::exporter
