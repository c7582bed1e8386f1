#include "export/syslog_message.h"

#include <cstdio>
#include <ctime>
#include <iterator>
#include <string_view>

namespace llmtap::exporter {
namespace {

// RFC 5424 section 6: the longest each header field may be.
constexpr size_t kMaxHostname = 255;
constexpr size_t kMaxAppName = 48;
constexpr size_t kMaxProcid = 128;
constexpr size_t kMaxMsgid = 32;
constexpr int kMaxFacility = 23;

// Header fields are PRINTUSASCII (33..126): a space would shift every later field for the
// receiver. Each other byte, or each whole UTF-8 sequence, becomes one '_'.
void append_header_field(std::string& out, std::string_view value, size_t max_length) {
  if (value.empty()) {
    out += '-';
    return;
  }
  size_t written = 0;
  bool in_sequence = false;  // inside a non-ASCII UTF-8 sequence already replaced
  for (const char ch : value) {
    if (written == max_length) break;
    const auto c = static_cast<unsigned char>(ch);
    if (in_sequence && (c & 0xC0) == 0x80) continue;
    in_sequence = c >= 0x80;
    out += (c >= 33 && c <= 126) ? ch : '_';
    ++written;
  }
}

// RFC 3339 in UTC with milliseconds; the RFC allows a 4-digit year only.
void append_timestamp(std::string& out, uint64_t time_ms) {
  const auto seconds = static_cast<time_t>(time_ms / 1000);
  std::tm tm{};
  if (time_ms == 0 || gmtime_r(&seconds, &tm) == nullptr || tm.tm_year + 1900 > 9999) {
    out += '-';
    return;
  }
  char text[32];
  const int n = std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
                              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                              tm.tm_sec, static_cast<unsigned>(time_ms % 1000));
  out.append(text, static_cast<size_t>(n));
}

}  // namespace

// OCSF severity_id -> syslog severity:
//   0 Unknown       -> 6 Informational   (nothing says it matters more)
//   1 Informational -> 6 Informational
//   2 Low           -> 5 Notice
//   3 Medium        -> 4 Warning
//   4 High          -> 3 Error
//   5 Critical      -> 2 Critical
//   6 Fatal         -> 1 Alert           (0 Emergency is "system unusable": not ours to say)
//   99 Other, else  -> 6 Informational
int syslog_severity(uint8_t ocsf_severity_id) {
  constexpr int kBySeverityId[] = {6, 6, 5, 4, 3, 2, 1};
  return ocsf_severity_id < std::size(kBySeverityId) ? kBySeverityId[ocsf_severity_id] : 6;
}

std::string format_rfc5424(const OutRecord& r, const SyslogIdentity& id) {
  const int facility =
      id.facility >= 0 && id.facility <= kMaxFacility ? id.facility : kSyslogFacilitySecurity;
  std::string out;
  out.reserve(r.payload.size() + 128);
  out += '<';
  out += std::to_string(facility * 8 + syslog_severity(r.severity_id));
  out += ">1 ";
  append_timestamp(out, r.time_ms);
  out += ' ';
  append_header_field(out, id.hostname, kMaxHostname);
  out += ' ';
  append_header_field(out, id.app_name, kMaxAppName);
  out += ' ';
  append_header_field(out, id.procid, kMaxProcid);
  out += ' ';
  append_header_field(out, id.msgid, kMaxMsgid);
  out += " -";  // no STRUCTURED-DATA: everything is in the payload
  // No BOM: RFC 5424 allows MSG-ANY without one, and a BOM would reach JSON consumers as
  // three bytes before the '{' (RFC 8259 forbids them; many parsers reject the event).
  if (!r.payload.empty()) {
    out += ' ';
    out += r.payload;
  }
  return out;
}

}  // namespace llmtap::exporter
