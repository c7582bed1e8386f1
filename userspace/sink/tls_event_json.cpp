#include "sink/tls_event_json.h"

#include <fmt/format.h>

#include <charconv>
#include <cstring>
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

namespace {

// The start of an event line, written by pointer into a buffer on the stack and appended to the
// output at once (one append per line instead of one per field).
class LineHead {
 public:
  static constexpr size_t kCapacity = 1024;
  void literal(std::string_view text) {
    std::memcpy(p_, text.data(), text.size());
    p_ += text.size();
  }
  template <typename T>
  void number(T value) {
    p_ = std::to_chars(p_, p_ + 24, value).ptr;
  }
  void hex(uint64_t value) { p_ = std::to_chars(p_, p_ + 24, value, 16).ptr; }
  // "address:port" or null, as append_endpoint writes it.
  void endpoint(const capture::Endpoint& endpoint) {
    *p_++ = '"';
    const size_t n = capture::format_endpoint_text(p_, endpoint);
    if (n == 0) {
      p_[-1] = 'n';
      literal("ull");
      return;
    }
    p_ += n;
    *p_++ = '"';
  }
  // A string with nothing to escape (printable ASCII but '"' and '\\'), quoted; false (nothing
  // written) for anything else or longer than `max`.
  bool plain_string(std::string_view text, size_t max) {
    if (text.size() > max) return false;
    for (const char c : text) {
      if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
    }
    *p_++ = '"';
    literal(text);
    *p_++ = '"';
    return true;
  }
  void append_to(std::string& out) {
    out.append(buf_, static_cast<size_t>(p_ - buf_));
    p_ = buf_;
  }

 private:
  char buf_[kCapacity];
  char* p_ = buf_;
};

}  // namespace

void append_tls_event_json(const capture::TlsCall& call, uint64_t time_ns, std::string& out) {
  // Written by hand rather than with fmt: this runs for every captured call. Fixed text, numbers
  // (at most 20 digits each), a command name of at most 64 bytes and two endpoints (at most
  // kEndpointTextMax + 2 each) stay well inside the head's 1 KiB.
  LineHead h;
  h.literal(R"({"type":"tls","time_ns":)");
  h.number(time_ns);
  h.literal(R"(,"mono_ns":)");
  h.number(call.mono_ns);
  h.literal(R"(,"pid":)");
  h.number(call.pid);
  h.literal(R"(,"tid":)");
  h.number(call.tid);
  h.literal(R"(,"uid":)");
  h.number(call.uid);
  h.literal(R"(,"comm":)");
  if (!h.plain_string(call.comm, 64)) {
    h.append_to(out);
    append_json_string(out, call.comm);
  }
  h.literal(R"(,"cgroup_id":)");
  h.number(call.cgroup_id);
  h.literal(R"(,"lib":")");
  h.literal(capture::to_string(call.lib));
  h.literal(R"(","direction":")");
  h.literal(capture::to_string(call.direction));
  h.literal(R"(","conn":{"id":)");
  h.number(call.conn_id);
  h.literal(R"(,"ssl":"0x)");
  h.hex(call.ssl);
  h.literal(R"(","fd":)");
  h.number(call.fd);
  h.literal(R"(,"src":)");
  h.endpoint(call.local);
  h.literal(R"(,"dst":)");
  h.endpoint(call.remote);
  h.literal(R"(},"len":)");
  h.number(call.call_len);
  h.literal(call.truncated ? R"(,"truncated":true,"lost":)" : R"(,"truncated":false,"lost":)");
  h.number(call.lost_len);
  h.literal(",");
  // Only when set: an earlier call in this direction was lost whole (see docs/events.md).
  if (call.gap_before) h.literal(R"("gap_before":true,)");
  h.literal(R"("data":")");
  h.append_to(out);
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
