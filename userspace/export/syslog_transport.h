#pragma once
// Syslog delivery: RFC 5424 messages over UDP (RFC 5426), TCP with octet-counted framing
// (RFC 6587) or TLS (RFC 5425). One connection is kept open across batches; each batch either
// goes out whole or is reported for retry (the receiver may then see some records twice).
// Receivers cut long messages at their own limit: rsyslog's maxMessageSize is 8 KiB unless
// raised, and its imtcp takes frames up to 200000 bytes (MaxFrameSize).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "export/syslog_message.h"
#include "export/transport.h"

namespace llmtap::exporter {

namespace detail {
struct SyslogStream;  // an open socket (and TLS session); in syslog_transport.cpp
}

struct SyslogTarget {
  enum class Protocol { kUdp, kTcp, kTls };
  Protocol protocol = Protocol::kTcp;
  std::string host;  // a name (resolved at each connect) or an IP address
  uint16_t port = 0;
  // TLS: the CAs the receiver's certificate must chain to (PEM); empty = the system store.
  std::string ca_file;
  bool verify_hostname = true;   // TLS: the certificate must also name `host`
  std::string client_cert_file;  // TLS: optional client certificate chain (PEM), mutual TLS
  std::string client_key_file;   // TLS: its private key (PEM)
  std::chrono::milliseconds connect_timeout{5000};  // TCP connect plus TLS handshake
  std::chrono::milliseconds write_timeout{10000};   // longest a write may make no progress
  // UDP: longer messages are cut to this many bytes (and counted). 65000 stays under the IPv4
  // and IPv6 datagram limits; receivers cut at their own limit too (rsyslog: 8 KiB by default).
  size_t max_datagram_bytes = 65000;
};

// `udp://host[:port]`, `tcp://host[:port]`, `tls://host[:port]`; an IPv6 address in brackets.
// Default ports 514, 514, 6514. On failure returns nullopt and says why in `error`.
std::optional<SyslogTarget> parse_syslog_url(std::string_view url, std::string& error);

// "tls://[::1]:6514": the target without any file names.
std::string syslog_url(const SyslogTarget& target);

class SyslogTransport final : public Transport {
 public:
  // Throws std::invalid_argument for a target that can never work: no host or port, a
  // datagram size out of range, TLS files that do not load.
  SyslogTransport(SyslogTarget target, SyslogIdentity identity);
  ~SyslogTransport() override;
  SyslogTransport(const SyslogTransport&) = delete;
  SyslogTransport& operator=(const SyslogTransport&) = delete;

  // Not thread-safe: one delivery thread sends.
  SendResult send(std::span<const OutRecord> records) override;
  std::string describe() const override;  // "syslog tcp://10.0.0.1:514"

  // UDP records cut to max_datagram_bytes so far.
  uint64_t truncated_records() const { return truncated_records_.load(); }

 private:
  bool send_datagrams(std::span<const OutRecord> records, std::string& error);
  bool send_stream(std::span<const OutRecord> records, std::string& error);

  SyslogTarget target_;
  SyslogIdentity identity_;
  std::unique_ptr<detail::SyslogStream> stream_;
  std::atomic<uint64_t> truncated_records_{0};
  bool truncation_logged_ = false;
};

}  // namespace llmtap::exporter
