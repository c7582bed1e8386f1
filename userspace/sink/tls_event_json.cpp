#include "sink/tls_event_json.h"

#include <fmt/format.h>

#include <charconv>
#include <iterator>

#include "sink/json_text.h"

namespace llmtap::sink {
namespace {

void append_endpoint(std::string& out, const capture::Endpoint& endpoint) {
  // Digits, dots, colons and brackets only: nothing to escape.
  out.push_back('"');
  if (!capture::append_endpoint_text(out, endpoint)) {
    out.back() = 'n';
    out += "ull";
    return;
  }
  out.push_back('"');
}

template <typename T>
void append_number(std::string& out, T value) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
}

}  // namespace

void append_tls_event_json(const capture::TlsCall& call, uint64_t time_ns, std::string& out) {
  // Written by hand rather than with fmt: this runs for every captured call.
  out += R"({"type":"tls","time_ns":)";
  append_number(out, time_ns);
  out += R"(,"mono_ns":)";
  append_number(out, call.mono_ns);
  out += R"(,"pid":)";
  append_number(out, call.pid);
  out += R"(,"tid":)";
  append_number(out, call.tid);
  out += R"(,"uid":)";
  append_number(out, call.uid);
  out += R"(,"comm":)";
  append_json_string(out, call.comm);
  out += R"(,"cgroup_id":)";
  append_number(out, call.cgroup_id);
  out += R"(,"lib":")";
  out += capture::to_string(call.lib);
  out += R"(","direction":")";
  out += capture::to_string(call.direction);
  out += R"(","conn":{"id":)";
  append_number(out, call.conn_id);
  out += R"(,"ssl":"0x)";
  char hex[24];
  out.append(hex, std::to_chars(hex, hex + sizeof hex, call.ssl, 16).ptr);
  out += R"(","fd":)";
  append_number(out, call.fd);
  out += R"(,"src":)";
  append_endpoint(out, call.local);
  out += R"(,"dst":)";
  append_endpoint(out, call.remote);
  out += R"(},"len":)";
  append_number(out, call.call_len);
  out += call.truncated ? R"(,"truncated":true,"lost":)" : R"(,"truncated":false,"lost":)";
  append_number(out, call.lost_len);
  out.push_back(',');
  // Only when set: an earlier call in this direction was lost whole (see docs/events.md).
  if (call.gap_before) out += R"("gap_before":true,)";
  out += R"("data":")";
  append_base64(out, call.data);
  out += "\"}\n";
}

void append_tls_close_json(const conn::ConnectionState& state, capture::CloseReason reason,
                           uint64_t mono_ns, uint64_t time_ns, std::string& out) {
  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 R"({{"type":"tls_close","time_ns":{},"mono_ns":{},"pid":{},"reason":"{}",)"
                 R"("conn":{{"id":{},"ssl":"0x{:x}","fd":{},"src":)",
                 time_ns, mono_ns, state.pid, capture::to_string(reason), state.id, state.ssl,
                 state.fd);
  append_endpoint(out, state.local);
  out += R"(,"dst":)";
  append_endpoint(out, state.remote);
  fmt::format_to(it, R"(}},"calls":{},"bytes_written":{},"bytes_read":{},"duration_ns":{}}})"
                     "\n",
                 state.calls, state.bytes_written, state.bytes_read,
                 mono_ns > state.first_mono_ns ? mono_ns - state.first_mono_ns : 0);
}

}  // namespace llmtap::sink
