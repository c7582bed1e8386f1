#include "sink/tls_event_json.h"

#include <fmt/format.h>

#include <iterator>

#include "sink/json_text.h"

namespace llmtap::sink {
namespace {

void append_endpoint(std::string& out, const capture::Endpoint& endpoint) {
  const std::string text = capture::to_string(endpoint);
  if (text.empty()) {
    out += "null";
  } else {
    append_json_string(out, text);
  }
}

}  // namespace

void append_tls_event_json(const capture::TlsCall& call, uint64_t time_ns, std::string& out) {
  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 R"({{"type":"tls","time_ns":{},"mono_ns":{},"pid":{},"tid":{},"uid":{},"comm":)",
                 time_ns, call.mono_ns, call.pid, call.tid, call.uid);
  append_json_string(out, call.comm);
  fmt::format_to(
      it, R"(,"cgroup_id":{},"lib":"{}","direction":"{}","conn":{{"id":{},"ssl":"0x{:x}","fd":{},"src":)",
      call.cgroup_id, capture::to_string(call.lib), capture::to_string(call.direction),
      call.conn_id, call.ssl, call.fd);
  append_endpoint(out, call.local);
  out += R"(,"dst":)";
  append_endpoint(out, call.remote);
  fmt::format_to(it, R"(}},"len":{},"truncated":{},"lost":{},)", call.call_len,
                 call.truncated ? "true" : "false", call.lost_len);
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
