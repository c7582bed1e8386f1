#pragma once
// One exported record as an RFC 5424 syslog message: the record's payload (OCSF JSON, a CEF
// line) is the MSG; the header carries the event's time, the agent's identity and a severity.

#include <cstdint>
#include <string>

#include "export/transport.h"

namespace llmtap::exporter {

// Facility 4 is "security/authorization messages" in RFC 5424's table: where SIEM forwarding
// rules and security tools put their events. 10 (authpriv) is meant for private data kept on
// the host, and 13 (log audit) is missing from many receivers' facility tables and rules.
inline constexpr int kSyslogFacilitySecurity = 4;

// Who sends: the header fields other than PRI and TIMESTAMP. An empty field is sent as the
// NILVALUE "-".
struct SyslogIdentity {
  std::string hostname;  // the node's name, as the receiver should file it
  std::string app_name = "llmtap";
  int facility = kSyslogFacilitySecurity;  // 0..23; anything else is sent as the default
  std::string procid;                      // usually the agent's pid
  std::string msgid = "ocsf";              // what MSG holds, for receivers' routing rules
};

// The syslog severity (RFC 5424, 0 Emergency .. 7 Debug) for an OCSF severity_id.
int syslog_severity(uint8_t ocsf_severity_id);

// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`, without framing. TIMESTAMP is UTC
// with milliseconds ("-" for time 0: the receiver then uses its own clock); header fields are
// cut to their RFC lengths and characters outside printable US-ASCII become '_'. MSG is the
// payload's bytes unchanged, with no UTF-8 BOM (see the .cpp).
std::string format_rfc5424(const OutRecord& r, const SyslogIdentity& id);

}  // namespace llmtap::exporter
